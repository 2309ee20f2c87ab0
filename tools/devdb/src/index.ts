import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { mkdtemp, rm } from 'node:fs/promises';
import { MongoClient } from 'mongodb';
import { ensureFerretdbBinary, onPath } from './ferretdb-binary';
import {
  startFerretdb,
  startMemoryServer,
  startMongod,
  type Engine,
  type RunningServer,
} from './engines';

export type { Engine } from './engines';
export { ensureFerretdbBinary, ferretdbBinaryPath } from './ferretdb-binary';

export interface DevDb {
  engine: Engine;
  /** Connection string without a database name; append one per app or test file. */
  uri: string;
  /** Where this server keeps its data (undefined for an external MONGODB_URI). */
  dataDir: string | undefined;
  /** The server's current process id, when this package runs it (it changes after a restart). */
  pid?: () => number | undefined;
  stop(): Promise<void>;
}

export interface StartDevDbOptions {
  /** Data folder; a fresh temporary folder (removed on stop) when omitted. */
  dataDir?: string;
  /** Loopback port; 0 (the default) picks a free one. */
  port?: number;
  /** Use this server instead of starting one (the MONGODB_URI setting). */
  mongodbUri?: string;
  log?: (line: string) => void;
}

/**
 * Gives back a running MongoDB-compatible server, in this order of preference:
 * an explicit `mongodbUri`, a `mongod` on PATH, FerretDB v1 embedded (needs Go),
 * mongodb-memory-server (downloads mongod: needs internet). Waits until it answers `ping`.
 * @throws when no engine can start or the server does not answer within 30 s.
 */
export async function startDevDb(options: StartDevDbOptions = {}): Promise<DevDb> {
  const log = options.log ?? ((line: string) => console.error(line));
  if (options.mongodbUri) {
    await waitForPing(options.mongodbUri);
    return {
      engine: 'external',
      uri: options.mongodbUri,
      dataDir: undefined,
      stop: async () => {},
    };
  }

  const temporary = options.dataDir === undefined;
  const dataDir = options.dataDir ?? (await mkdtemp(join(tmpdir(), 'medseal-devdb-')));
  const engine = starters[await localEngine()];
  const server: RunningServer = await engine({ dataDir, port: options.port ?? 0, log });
  try {
    await waitForPing(server.uri);
  } catch (error) {
    await server.stop();
    throw error;
  }
  return {
    engine: server.engine,
    uri: server.uri,
    dataDir,
    ...(server.pid ? { pid: server.pid } : {}),
    stop: async () => {
      await server.stop();
      if (temporary) await rm(dataDir, { recursive: true, force: true });
    },
  };
}

const starters = {
  mongod: startMongod,
  ferretdb: startFerretdb,
  'mongodb-memory-server': startMemoryServer,
};

async function localEngine(): Promise<keyof typeof starters> {
  if (await onPath('mongod')) return 'mongod';
  if (await onPath('go')) return 'ferretdb';
  return 'mongodb-memory-server';
}

/**
 * Makes ready ahead of time what `startDevDb` with the same `mongodbUri` will start: builds the
 * FerretDB program when that is the engine it will pick. The test command runs this once
 * before any package's tests start (turbo's `build` task of this package).
 * @returns the engine `startDevDb` will use.
 * @throws when the FerretDB build fails.
 */
export async function prepareDevDb(
  options: Pick<StartDevDbOptions, 'mongodbUri' | 'log'> = {},
): Promise<Engine> {
  if (options.mongodbUri) return 'external';
  const engine = await localEngine();
  if (engine === 'ferretdb')
    await ensureFerretdbBinary({ log: options.log ?? ((line) => console.error(line)) });
  return engine;
}

/** Polls `ping` until the server answers. */
export async function waitForPing(uri: string, timeoutMs = 30_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const client = new MongoClient(uri, { serverSelectionTimeoutMS: 1_000 });
    try {
      await client.connect();
      await client.db('admin').command({ ping: 1 });
      return;
    } catch (error) {
      if (Date.now() > deadline) {
        throw new Error(`devdb: no answer to ping from the database within ${timeoutMs} ms`, {
          cause: error,
        });
      }
      await new Promise((resolve) => setTimeout(resolve, 200));
    } finally {
      await client.close();
    }
  }
}
