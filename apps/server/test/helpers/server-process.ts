import { spawn, type ChildProcess } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { join } from 'node:path';
import { createInterface } from 'node:readline';
import { freshTestDatabaseUri } from '@medseal/devdb/test-database';
import { serverDir } from './paths';

export interface ServerProcess {
  baseUrl: string;
  child: ChildProcess;
  /** Resolves with the exit code (null when a signal ended it). */
  exited: Promise<number | null>;
  /** Everything the process wrote to stderr so far (for failure messages). */
  stderr(): string;
}

const secret = () => randomBytes(32).toString('base64url');

/**
 * The real server (`src/main.ts`, as `pnpm start` runs it) in its own process on 127.0.0.1,
 * port 0, against a fresh database on the test database server. Kill it with a signal; the
 * test's own `finally` should SIGKILL it if it is still running.
 * @throws when the process exits or stays silent for 60 s before it listens.
 */
export async function startServerProcess(): Promise<ServerProcess> {
  const child = spawn(process.execPath, ['--import', 'tsx', 'src/main.ts'], {
    cwd: serverDir,
    stdio: ['ignore', 'pipe', 'pipe'],
    env: {
      PATH: process.env.PATH,
      HOME: process.env.HOME,
      TMPDIR: process.env.TMPDIR,
      NODE_ENV: 'test',
      HOST: '127.0.0.1',
      PORT: '0',
      LOG_LEVEL: 'info',
      MONGODB_URI: freshTestDatabaseUri('process'),
      MEDSEAL_LOGIN_PEPPER: secret(),
      MEDSEAL_KEY_SEALING_KEY: secret(),
      MEDSEAL_FAKE_SEED_KEY: secret(),
      MEDSEAL_KT_LOG_KEY: secret(),
      MEDSEAL_WEB_DIST: join(serverDir, 'no-web-dist'),
      MEDSEAL_ALLOWED_HOSTS: '127.0.0.1',
    },
  });
  let stderr = '';
  child.stderr?.on('data', (chunk: Buffer) => (stderr += chunk.toString('utf8')));
  const exited = new Promise<number | null>((resolve) =>
    child.once('exit', (code) => resolve(code)),
  );
  const baseUrl = await new Promise<string>((resolve, reject) => {
    const timer = setTimeout(
      () => reject(new Error(`server did not listen within 60 s\n${stderr}`)),
      60_000,
    );
    void exited.then((code) =>
      reject(new Error(`server exited (${code}) before it listened\n${stderr}`)),
    );
    createInterface({ input: child.stdout as NodeJS.ReadableStream }).on('line', (line) => {
      const url = /Medseal listening on (http:\/\/\S+?)"/.exec(line)?.[1];
      if (!url) return;
      clearTimeout(timer);
      resolve(url);
    });
  });
  return { baseUrl, child, exited, stderr: () => stderr };
}
