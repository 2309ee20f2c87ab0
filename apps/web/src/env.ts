/**
 * The only module that reads `import.meta.env` (STYLE.md §6): values fixed at build time.
 * config.ts validates the app's settings with zod; the crypto worker takes only the log key
 * from here, checked without zod so zod stays out of the worker's bundle.
 */
export const buildEnv = {
  apiBase: import.meta.env.VITE_MEDSEAL_API_BASE as unknown,
  clientVersion: import.meta.env.VITE_MEDSEAL_CLIENT_VERSION as unknown,
};

/**
 * The key-transparency log's Ed25519 public key (DESIGN §14), built in so the server cannot
 * swap it: vite.config.ts takes VITE_MEDSEAL_KT_LOG_KEY, or the key of the server on the build
 * machine (docs/decisions.md "Key transparency in the web app").
 */
export const ktLogPublicKey: string = (() => {
  const key: unknown = import.meta.env.VITE_MEDSEAL_KT_LOG_KEY;
  if (typeof key !== 'string' || !/^[A-Za-z0-9_-]{43}$/.test(key)) {
    throw new Error('VITE_MEDSEAL_KT_LOG_KEY is not an Ed25519 public key (base64url)');
  }
  return key;
})();
