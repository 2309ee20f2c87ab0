import { resolve, sep } from 'node:path';
import { z } from 'zod';
import { isLoopbackAddress } from './client-address';

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
  /** Folder for the embedded database; relative to apps/server. */
  MEDSEAL_DATA_DIR: z.string().default('../../.data'),
  /**
   * Folder for the generated server secrets (embedded mode); never inside the data folder,
   * so a copy of the database does not take the keys with it (issue 15, finding 11).
   */
  MEDSEAL_SECRETS_DIR: z.string().default('../../.secrets'),
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
   * Host names (the `Host` header without port) the server answers, comma-separated; any
   * other gets 421 (DNS rebinding). Loopback names are allowed too in the embedded mode.
   */
  MEDSEAL_ALLOWED_HOSTS: z.string().default(''),
  /**
   * Plain HTTP on a loopback address only (`HOST` must be loopback): drop `Secure` and the
   * `__Host-` prefix from the session cookie. Off by default, whatever `NODE_ENV` says.
   */
  MEDSEAL_LOOPBACK_HTTP_COOKIES: bool.default(false),
  /** Replaced by MEDSEAL_LOOPBACK_HTTP_COOKIES; refused so an old setting is not silently ignored. */
  MEDSEAL_INSECURE_COOKIES: z
    .undefined({
      error:
        'MEDSEAL_INSECURE_COOKIES is gone: use MEDSEAL_LOOPBACK_HTTP_COOKIES=true (loopback HOST only)',
    })
    .optional(),
  /** Session lifetime in hours (absolute; checked on every request). */
  MEDSEAL_SESSION_HOURS: z.coerce
    .number()
    .positive()
    .max(24 * 30)
    .default(12),
  /** Rate-limit window in seconds; a lock-out ends when its window ends. */
  MEDSEAL_RATE_WINDOW_SECONDS: z.coerce.number().int().positive().default(900),
  /** Clients older than this get `X-Medseal-Client-Status: update-required`. */
  MEDSEAL_MIN_CLIENT_VERSION: z
    .string()
    .regex(/^\d+\.\d+\.\d+$/)
    .default('0.0.0'),
  /**
   * Lifetime of the per-process read cache (sessions, records); 0 turns it off. Other
   * processes' writes reach it through the invalidation feed; this bounds what it could miss.
   */
  MEDSEAL_READ_CACHE_SECONDS: z.coerce
    .number()
    .min(0)
    .max(3600)
    .default(DEFAULT_READ_CACHE_SECONDS),
  /** Trust X-Forwarded-* from this many proxies (for client IPs in rate limits). */
  MEDSEAL_TRUST_PROXY: z.coerce.number().int().min(0).default(0),
});

export type Config = z.infer<typeof configSchema>;

/**
 * Cookies without `Secure` travel in clear text, so only a server on a loopback address may
 * drop it; the secrets folder is kept apart from the data folder.
 */
const checkedConfig = configSchema.superRefine((c, ctx) => {
  const data = resolve(c.MEDSEAL_DATA_DIR);
  const secrets = resolve(c.MEDSEAL_SECRETS_DIR);
  if (
    secrets === data ||
    secrets.startsWith(`${data}${sep}`) ||
    data.startsWith(`${secrets}${sep}`)
  ) {
    ctx.addIssue({
      code: 'custom',
      path: ['MEDSEAL_SECRETS_DIR'],
      message: 'must be a folder apart from MEDSEAL_DATA_DIR (neither inside the other)',
    });
  }
  if (c.MEDSEAL_LOOPBACK_HTTP_COOKIES && !(c.HOST === 'localhost' || isLoopbackAddress(c.HOST))) {
    ctx.addIssue({
      code: 'custom',
      path: ['MEDSEAL_LOOPBACK_HTTP_COOKIES'],
      message: `needs a loopback HOST, not ${c.HOST}`,
    });
  }
});

/** @throws a ZodError naming each bad variable. */
export function loadConfig(env: NodeJS.ProcessEnv = process.env): Config {
  return checkedConfig.parse(env);
}

/** A comma-separated list setting as its trimmed, non-empty entries. */
export function listOf(value: string): string[] {
  return value
    .split(',')
    .map((v) => v.trim())
    .filter(Boolean);
}
