import { listOf, type Config } from './lib/config';
import type { ServerSecrets } from './lib/secrets';
import { defaultRateLimits, type AppSettings } from './services';

/** Server version reported in the OpenAPI document. */
export const SERVER_VERSION = '0.1.0';

/** Production-strength Argon2id for stored login-secret hashes (OWASP: 19 MiB, t=2). */
export const DEFAULT_ARGON2 = { memoryCost: 19 * 1024, timeCost: 2, parallelism: 1 } as const;

/**
 * @throws Error when the server would answer no host: with an external database (a real
 * deployment) MEDSEAL_ALLOWED_HOSTS or MEDSEAL_ALLOWED_ORIGINS must name the site.
 */
export function settingsFromConfig(config: Config, secrets: ServerSecrets): AppSettings {
  const origins = listOf(config.MEDSEAL_ALLOWED_ORIGINS);
  // The allowed origins' hosts are allowed hosts too: one setting is enough for a site.
  const hostNames = [
    ...listOf(config.MEDSEAL_ALLOWED_HOSTS),
    ...origins.map((o) => new URL(o).hostname),
  ].map((h) => h.toLowerCase());
  const embedded = config.MONGODB_URI === undefined;
  if (!embedded && hostNames.length === 0) {
    throw new Error(
      'Set MEDSEAL_ALLOWED_HOSTS (or MEDSEAL_ALLOWED_ORIGINS) to the host names this server answers.',
    );
  }
  return {
    secrets,
    secureCookies: !config.MEDSEAL_LOOPBACK_HTTP_COOKIES,
    allowedOrigins: origins,
    allowedHosts: { names: hostNames, loopback: embedded },
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
