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
import { resolve } from 'node:path';
import { serverDir } from './helpers/paths';
import { loadConfig } from '../src/lib/config';
import { checkWebBuildLogKey, generateSecrets, ktLogKeyForBuild } from '../src/lib/secrets';
import {
  encodeBinding,
  keyIdentityOf,
  logPublicKeyOf,
  parseBinding,
  subjectOf,
} from '../src/lib/pgp';
import { TransparencyLog } from '../src/components/transparency/log';

export { auditOnce } from '../src/components/transparency/audit';
import { ktModels } from '../src/components/transparency/model';
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

/**
 * The key-transparency log key a web build on this machine carries the public half of
 * (`kt:log-key`, run from apps/server as vite.config.ts runs it): browser tests of the built
 * app sign heads with it. Checks `webDist` was built for it.
 * @throws Error naming the fix when the build carries another key.
 */
export async function builtAppLogKey(webDist: string): Promise<string> {
  const config = loadConfig(process.env);
  const logKey = await ktLogKeyForBuild(
    {
      ...config,
      MEDSEAL_DATA_DIR: resolve(serverDir, config.MEDSEAL_DATA_DIR),
      MEDSEAL_SECRETS_DIR: resolve(serverDir, config.MEDSEAL_SECRETS_DIR),
    },
    () => undefined,
  );
  await checkWebBuildLogKey(webDist, logPublicKeyOf(logKey));
  return logKey;
}

/** The real app on 127.0.0.1 port 0 against a fresh database of its own. */
export async function startTestServer(options: TestServerOptions = {}): Promise<TestServer> {
  const connection = await connectDb(options.mongoUri ?? freshTestDatabaseUri('server'));
  const settings = testSettings(options.settings);
  // A built app checks heads against the log key it carries (DESIGN §14): sign with its secret.
  if (options.webDist && !options.settings?.secrets) {
    settings.secrets = { ...settings.secrets, ktLogKey: await builtAppLogKey(options.webDist) };
  }
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

/** Whose history lists a leaf: its user, its team, or the member it names. */
const subjectOfLeaf = (data: string): string => subjectOf(parseBinding(data));

/**
 * The operator's own hand on the key-transparency log (it holds the log key and the database):
 * `bind` logs a binding of its choice, `append` any leaf, `rewrite` replaces the whole log with other leaves, each
 * signed like the server signs. For attack tests.
 */
export function operatorLog(server: TestServer) {
  const models = ktModels(server.connection);
  const log = () =>
    new TransparencyLog(models, {
      logKey: server.settings.secrets.ktLogKey,
      logger: createLogger('silent'),
    });
  return {
    /** The leaves of the log, in order. */
    async leaves(): Promise<string[]> {
      const docs = await models.leaves.find({}).sort({ _id: 1 }).lean();
      return docs.map((d) => d.data);
    },
    /**
     * Logs that `user` has `publicKey` in a version 1 leaf (the email in clear, as registration
     * did before version 2 leaves; any leaf is the operator's to write); returns the leaf index.
     */
    async bind(
      user: { id: string; email: string },
      publicKey: string,
      at = new Date(),
    ): Promise<number> {
      const key = await keyIdentityOf(publicKey);
      const data = encodeBinding({
        v: 1,
        type: 'user-key',
        userId: user.id,
        email: user.email,
        ...key,
        at: at.getTime(),
      });
      return log().append(data, user.id);
    },
    /** Appends any leaf (e.g. a team change no admin signed); returns its index. */
    append(data: string): Promise<number> {
      return log().append(data, subjectOfLeaf(data));
    },
    /** Replaces the log with these leaves. */
    async rewrite(leaves: string[]): Promise<void> {
      await Promise.all(
        Object.values(models).map((m: { deleteMany(f: object): Promise<unknown> }) =>
          m.deleteMany({}),
        ),
      );
      const fresh = log();
      for (const data of leaves) await fresh.append(data, subjectOfLeaf(data));
    },
  };
}
