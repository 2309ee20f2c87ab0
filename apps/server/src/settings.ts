import type { Config } from './lib/config';
import type { ServerSecrets } from './lib/secrets';
import { defaultRateLimits, type AppSettings } from './services';

/** Server version reported in the OpenAPI document. */
export const SERVER_VERSION = '0.1.0';

/** Production-strength Argon2id for stored login-secret hashes (OWASP: 19 MiB, t=2). */
export const DEFAULT_ARGON2 = { memoryCost: 19 * 1024, timeCost: 2, parallelism: 1 } as const;

export function settingsFromConfig(config: Config, secrets: ServerSecrets): AppSettings {
  const origins = config.MEDSEAL_ALLOWED_ORIGINS.split(',')
    .map((o) => o.trim())
    .filter(Boolean);
  return {
    secrets,
    secureCookies: !(config.MEDSEAL_INSECURE_COOKIES ?? config.NODE_ENV !== 'production'),
    allowedOrigins: origins,
    sessionTtlMs: config.MEDSEAL_SESSION_HOURS * 3600 * 1000,
    rateWindowMs: config.MEDSEAL_RATE_WINDOW_SECONDS * 1000,
    rateLimits: defaultRateLimits,
    minClientVersion: config.MEDSEAL_MIN_CLIENT_VERSION,
    version: SERVER_VERSION,
    checkResponses: config.NODE_ENV !== 'production',
    argon2: DEFAULT_ARGON2,
    trustProxy: config.MEDSEAL_TRUST_PROXY,
    readCacheTtlMs: config.MEDSEAL_READ_CACHE_SECONDS * 1000,
  };
}
