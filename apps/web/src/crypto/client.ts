// placeholder until the crypto worker face lands
export type KeyHandle = string;
export type CryptoClient = Record<string, never>;
