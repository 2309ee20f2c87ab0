import { spawn, type ChildProcess } from 'node:child_process';
import { createServer } from 'node:net';
import { mkdir } from 'node:fs/promises';
import { createInterface } from 'node:readline';
import { ensureFerretdbBinary } from './ferretdb-binary';

/** Which server answered: reported by `startDevDb` and printed by the CLI. */
export type Engine = 'external' | 'mongod' | 'ferretdb' | 'mongodb-memory-server';

export interface RunningServer {
  engine: Engine;
  uri: string;
  /** The server's current process id, where this package runs it (fault tests signal it). */
  pid?: () => number | undefined;
  /** Stops the server; resolves when its process has exited. */
  stop(): Promise<void>;
}

export interface EngineOptions {
  dataDir: string;
  /** Loopback port to listen on; 0 picks a free one. */
  port: number;
  log: (line: string) => void;
}

/** Starts `mongod` from PATH on a free loopback port. */
export async function startMongod(options: EngineOptions): Promise<RunningServer> {
  const { dataDir } = options;
  await mkdir(dataDir, { recursive: true });
  const port = options.port || (await freePort());
  const child = spawn(
    'mongod',
    ['--bind_ip', '127.0.0.1', '--port', String(port), '--dbpath', dataDir],
    {
      stdio: ['ignore', 'ignore', 'inherit'],
    },
  );
  return {
    engine: 'mongod',
    uri: `mongodb://127.0.0.1:${port}/`,
    pid: () => child.pid,
    stop: () => stopChild(child),
  };
}

/** After a crash, FerretDB is started again this long after the previous try failed. */
const RESTART_DELAY_MS = 250;

/**
 * Builds (once, cached) and starts FerretDB v1 embedded with its SQLite backend, and keeps it
 * running: when the process dies (a crash, `kill -9`), it is started again on the same port
 * and data folder, so clients reconnect by themselves (SQLite's WAL keeps every committed
 * write). The child watches its stdin, so it exits with this process even on a crash that
 * skips `stop()`.
 */
export async function startFerretdb({ dataDir, port, log }: EngineOptions): Promise<RunningServer> {
  const binary = await ensureFerretdbBinary({ log });
  await mkdir(dataDir, { recursive: true });
  const first = await spawnFerretdb(binary, dataDir, port);
  let child = first.child;
  const boundPort = Number(new URL(first.uri).port);
  let stopping = false;

  const restart = async (): Promise<void> => {
    while (!stopping) {
      try {
        const started = await spawnFerretdb(binary, dataDir, boundPort);
        child = started.child;
        if (stopping) return stopChild(child);
        supervise(child);
        log('devdb: FerretDB restarted');
        return;
      } catch (error) {
        log(`devdb: FerretDB did not start again: ${(error as Error).message}`);
        await new Promise((resolve) => setTimeout(resolve, RESTART_DELAY_MS));
      }
    }
  };
  const supervise = (running: ChildProcess) =>
    running.once('exit', (code, signal) => {
      if (stopping) return;
      log(`devdb: FerretDB exited (${signal ?? `code ${code}`}); starting it again`);
      void restart();
    });
  supervise(child);

  return {
    engine: 'ferretdb',
    uri: first.uri,
    pid: () => child.pid,
    stop: () => {
      stopping = true;
      return stopChild(child);
    },
  };
}

/** Starts the program and waits for its `ready <uri>` line. */
async function spawnFerretdb(
  binary: string,
  dataDir: string,
  port: number,
): Promise<{ child: ChildProcess; uri: string }> {
  const child = spawn(binary, ['-listen', `127.0.0.1:${port}`, '-data', dataDir, '-watch-stdin'], {
    stdio: ['pipe', 'pipe', 'inherit'],
  });
  const uri = await new Promise<string>((resolve, reject) => {
    const lines = createInterface({ input: child.stdout });
    lines.on('line', (line) => {
      const match = /^ready (mongodb:\/\/\S+)$/.exec(line);
      if (match?.[1]) resolve(match[1]);
    });
    child.once('exit', (code) =>
      reject(new Error(`FerretDB exited before it was ready (code ${code})`)),
    );
    child.once('error', reject);
  });
  return { child, uri };
}

/** Last resort: mongodb-memory-server downloads a mongod build, so it needs internet access. */
export async function startMemoryServer({ dataDir, port }: EngineOptions): Promise<RunningServer> {
  await mkdir(dataDir, { recursive: true });
  const { MongoMemoryServer } = await import('mongodb-memory-server-core');
  const server = await MongoMemoryServer.create({
    instance: { ip: '127.0.0.1', dbPath: dataDir, ...(port ? { port } : {}) },
  });
  return {
    engine: 'mongodb-memory-server',
    uri: server.getUri(),
    stop: async () => {
      await server.stop();
    },
  };
}

async function stopChild(child: ChildProcess): Promise<void> {
  if (child.exitCode !== null || child.signalCode !== null) return;
  const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
  child.kill('SIGTERM');
  const timer = setTimeout(() => child.kill('SIGKILL'), 10_000);
  await exited;
  clearTimeout(timer);
}

function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const address = server.address();
      server.close(() => {
        if (address && typeof address === 'object') resolve(address.port);
        else reject(new Error('no port'));
      });
    });
  });
}
