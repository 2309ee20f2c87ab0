import { z } from 'zod';

/**
 * The only module that reads `import.meta.env` (STYLE.md §6). Values are fixed at build time;
 * main.tsx passes them down, so nothing that tests load touches `import.meta`.
 */
const schema = z.object({
  /** Where the API lives; same origin by default (cookies are SameSite=Strict). */
  apiBase: z.string().min(1),
  /** Sent as X-Medseal-Client so the server can tell an outdated client to reload. */
  clientVersion: z.string().min(1),
  /**
   * The key-transparency log's Ed25519 public key (DESIGN §14), built in so the server cannot
   * swap it: vite.config.ts takes VITE_MEDSEAL_KT_LOG_KEY, or the embedded server's own key.
   * The crypto worker reads it from here (crypto/worker.ts).
   */
  ktLogPublicKey: z.string().regex(/^[A-Za-z0-9_-]{43}$/, 'an Ed25519 public key, base64url'),
});
export type AppConfig = z.infer<typeof schema>;

export const config: AppConfig = schema.parse({
  apiBase: import.meta.env.VITE_MEDSEAL_API_BASE ?? '/api',
  clientVersion: import.meta.env.VITE_MEDSEAL_CLIENT_VERSION ?? '1.0.0',
  ktLogPublicKey: import.meta.env.VITE_MEDSEAL_KT_LOG_KEY,
});
