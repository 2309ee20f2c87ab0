// @medseal/crypto exports TypeScript source, so this package type-checks it too — with the DOM
// lib, whose SubtleCrypto (TypeScript 5.9) accepts only ArrayBuffer-backed views, while the
// crypto package is checked with Node's types, which accept any Uint8Array. These overloads
// declare what browsers do accept (any non-shared Uint8Array); nothing changes at runtime.
// Remove once packages/crypto passes `Uint8Array<ArrayBuffer>` itself.
export {};

declare global {
  interface SubtleCrypto {
    digest(algorithm: AlgorithmIdentifier, data: Uint8Array<ArrayBufferLike>): Promise<ArrayBuffer>;
    importKey(format: 'raw', keyData: Uint8Array<ArrayBufferLike>, algorithm: HmacImportParams, extractable: boolean, keyUsages: KeyUsage[]): Promise<CryptoKey>;
    sign(algorithm: 'HMAC', key: CryptoKey, data: Uint8Array<ArrayBufferLike>): Promise<ArrayBuffer>;
  }
}
