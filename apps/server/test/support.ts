import type { Connection } from 'mongoose';
import type { Logger } from 'pino';
import type { EndpointName } from '@medseal/contract';
import { freshTestDatabaseUri } from '@medseal/devdb/test-database';
import { createApp } from '../src/app';
import { DEFAULT_READ_CACHE_SECONDS } from '../src/lib/config';
import { connectDb } from '../src/lib/db';
import { listen } from '../src/lib/http-server';
import { createLogger } from '../src/lib/logger';
import type { AccessRule } from '../src/lib/routing';
import { generateSecrets } from '../src/lib/secrets';
import { defaultRateLimits, type AppSettings } from '../src/services';
import { DEFAULT_ARGON2, SERVER_VERSION } from '../src/settings';

export interface TestServer {
  baseUrl: string;
  connection: Connection;
  settings: AppSettings;
  /** Graceful HTTP stop (in-flight requests finish); the database stays open. */
  shutdown(graceMs?: number): Promise<void>;
  /** Stops at once and drops the test database. */
  close(): Promise<void>;
}

export interface TestServerOptions {
  mongoUri?: string;
  /** Built web app to serve beside the API (web E2E). */
  webDist?: string;
  settings?: Partial<AppSettings>;
  accessRules?: Partial<Record<EndpointName, AccessRule>>;
  /** Defaults to a silent logger. */
  logger?: Logger;
}

/** Settings for tests: fresh random secrets, plain-HTTP cookies, real Argon2id cost. */
export function testSettings(overrides: Partial<AppSettings> = {}): AppSettings {
  return {
    secrets: generateSecrets(),
    secureCookies: false,
    allowedOrigins: [],
    allowedHosts: { names: [], loopback: true },
    sessionTtlMs: 3600_000,
    rateWindowMs: 60_000,
    rateLimits: defaultRateLimits,
    minClientVersion: '1.0.0',
    version: SERVER_VERSION,
    checkResponses: true,
    argon2: DEFAULT_ARGON2,
    trustProxy: 0,
    readCacheTtlMs: DEFAULT_READ_CACHE_SECONDS * 1000,
    ...overrides,
  };
}

/** The real app on 127.0.0.1 port 0 against a fresh database of its own. */
export async function startTestServer(options: TestServerOptions = {}): Promise<TestServer> {
  const connection = await connectDb(options.mongoUri ?? freshTestDatabaseUri('server'));
  const settings = testSettings(options.settings);
  const app = createApp({
    connection,
    logger: options.logger ?? createLogger('silent'),
    settings,
    ...(options.webDist ? { webDist: options.webDist } : {}),
    ...(options.accessRules ? { accessRules: options.accessRules } : {}),
  });
  const http = await listen(app, { host: '127.0.0.1', port: 0 });
  return {
    baseUrl: `http://127.0.0.1:${http.port}`,
    connection,
    settings,
    shutdown: (graceMs) => http.shutdown(graceMs),
    close: async () => {
      http.server.closeAllConnections();
      await http.shutdown(0);
      await connection.dropDatabase().catch(() => undefined);
      await connection.close();
    },
  };
}
