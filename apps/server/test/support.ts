import type { AddressInfo } from 'node:net';
import type { Server } from 'node:http';
import type { Connection } from 'mongoose';
import type { EndpointName } from '@medseal/contract';
import { freshTestDatabaseUri } from '@medseal/devdb/test-database';
import { createApp } from '../src/app';
import { connectDb } from '../src/lib/db';
import { createLogger } from '../src/lib/logger';
import type { AccessRule } from '../src/lib/routing';
import { generateSecrets } from '../src/lib/secrets';
import { defaultRateLimits, type AppSettings } from '../src/services';
import { DEFAULT_ARGON2, SERVER_VERSION } from '../src/settings';

export interface TestServer {
  baseUrl: string;
  connection: Connection;
  settings: AppSettings;
  close(): Promise<void>;
}

export interface TestServerOptions {
  mongoUri?: string;
  /** Built web app to serve beside the API (web E2E). */
  webDist?: string;
  settings?: Partial<AppSettings>;
  accessRules?: Partial<Record<EndpointName, AccessRule>>;
}

/** Settings for tests: fresh random secrets, plain-HTTP cookies, real Argon2id cost. */
export function testSettings(overrides: Partial<AppSettings> = {}): AppSettings {
  return {
    secrets: generateSecrets(),
    secureCookies: false,
    allowedOrigins: [],
    sessionTtlMs: 3600_000,
    rateWindowMs: 60_000,
    rateLimits: defaultRateLimits,
    minClientVersion: '1.0.0',
    version: SERVER_VERSION,
    checkResponses: true,
    argon2: DEFAULT_ARGON2,
    trustProxy: 0,
    ...overrides,
  };
}

/** The real app on 127.0.0.1 port 0 against a fresh database of its own. */
export async function startTestServer(options: TestServerOptions = {}): Promise<TestServer> {
  const connection = await connectDb(options.mongoUri ?? freshTestDatabaseUri('server'));
  const settings = testSettings(options.settings);
  const app = createApp({
    connection,
    logger: createLogger('silent'),
    settings,
    ...(options.webDist ? { webDist: options.webDist } : {}),
    ...(options.accessRules ? { accessRules: options.accessRules } : {}),
  });
  const server: Server = await new Promise((resolve) => {
    const s = app.listen(0, '127.0.0.1', () => resolve(s));
  });
  const { port } = server.address() as AddressInfo;
  return {
    baseUrl: `http://127.0.0.1:${port}`,
    connection,
    settings,
    close: async () => {
      server.closeAllConnections();
      await new Promise<void>((done) => server.close(() => done()));
      await connection.dropDatabase().catch(() => undefined);
      await connection.close();
    },
  };
}
