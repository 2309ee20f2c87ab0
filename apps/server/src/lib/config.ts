import { z } from 'zod';

/** Read-cache lifetime unless MEDSEAL_READ_CACHE_SECONDS says otherwise. */
export const DEFAULT_READ_CACHE_SECONDS = 10;

const bool = z.enum(['true', 'false']).transform((v) => v === 'true');
/** A 32-byte secret, base64url without padding (43 characters). */
const secret32 = z.string().regex(/^[A-Za-z0-9_-]{43}$/, '32 bytes, base64url without padding');

/**
 * The server's settings, validated once at start. Nothing else reads `process.env`
 * (STYLE.md §6). Every variable is listed in the README's configuration table.
 */
const configSchema = z.object({
  NODE_ENV: z.enum(['development', 'production', 'test']).default('development'),
  HOST: z.string().default('127.0.0.1'),
  PORT: z.coerce.number().int().min(0).max(65535).default(8080),
  /** Any MongoDB (6+) or FerretDB; when unset, tools/devdb starts an embedded one. */
  MONGODB_URI: z.string().url().optional(),
  /** Folder for the embedded database and generated dev secrets; relative to apps/server. */
  MEDSEAL_DATA_DIR: z.string().default('../../.data'),
  /** Built web app to serve; when the folder is missing only the API is served. */
  MEDSEAL_WEB_DIST: z.string().optional(),
  LOG_LEVEL: z.enum(['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent']).default('info'),
  /** Pepper for the Argon2id hash of login secrets (never stored in the database). */
  MEDSEAL_LOGIN_PEPPER: secret32.optional(),
  /** AES-256-GCM key sealing the stored (already password-locked) private keys. */
  MEDSEAL_KEY_SEALING_KEY: secret32.optional(),
  /** HMAC key for the deterministic fake salt seeds of unknown emails. */
  MEDSEAL_FAKE_SEED_KEY: secret32.optional(),
  /** Ed25519 seed of the key-transparency log key; its public half is built into the web app. */
  MEDSEAL_KT_LOG_KEY: secret32.optional(),
  /**
   * Extra origins allowed on state-changing requests, comma-separated (the request's own
   * host is always allowed).
   */
  MEDSEAL_ALLOWED_ORIGINS: z.string().default(''),
  /**
   * Plain-HTTP localhost only: drop `Secure` and the `__Host-` prefix from the session
   * cookie. Defaults to true outside production.
   */
  MEDSEAL_INSECURE_COOKIES: bool.optional(),
  /** Session lifetime in hours (absolute; checked on every request). */
  MEDSEAL_SESSION_HOURS: z.coerce.number().positive().max(24 * 30).default(12),
  /** Rate-limit window in seconds; a lock-out ends when its window ends. */
  MEDSEAL_RATE_WINDOW_SECONDS: z.coerce.number().int().positive().default(900),
  /** Clients older than this get `X-Medseal-Client-Status: update-required`. */
  MEDSEAL_MIN_CLIENT_VERSION: z.string().regex(/^\d+\.\d+\.\d+$/).default('0.0.0'),
  /**
   * Lifetime of the per-process read cache (sessions, records); 0 turns it off. Other
   * processes' writes reach it through the invalidation feed; this bounds what it could miss.
   */
  MEDSEAL_READ_CACHE_SECONDS: z.coerce.number().min(0).max(3600).default(DEFAULT_READ_CACHE_SECONDS),
  /** Trust X-Forwarded-* from this many proxies (for client IPs in rate limits). */
  MEDSEAL_TRUST_PROXY: z.coerce.number().int().min(0).default(0),
});

export type Config = z.infer<typeof configSchema>;

/** @throws a ZodError naming each bad variable. */
export function loadConfig(env: NodeJS.ProcessEnv = process.env): Config {
  return configSchema.parse(env);
}
