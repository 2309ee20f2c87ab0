import { spawn } from 'node:child_process';
import { join } from 'node:path';
import express, { type Express } from 'express';
import { defaultRateLimits, type RateLimits } from '../src/services';
import type { LoadConfig, LoadResult } from './load';

/**
 * Runs the load generator (bench/load.ts, autocannon) in a child process, never in the
 * server's (issue 11): its work would otherwise share the server's thread. Prints one line
 * and returns the result.
 * @throws when the generator exits with an error.
 */
export function runLoad(name: string, config: LoadConfig): Promise<LoadResult> {
  return new Promise((resolve, reject) => {
    const child = spawn(
      process.execPath,
      ['--import', 'tsx', join('bench', 'load.ts'), JSON.stringify(config)],
      { stdio: ['ignore', 'pipe', 'inherit'] },
    );
    let out = '';
    child.stdout.on('data', (chunk: Buffer) => (out += chunk.toString('utf8')));
    child.once('error', reject);
    child.once('close', (code) => {
      if (code !== 0) return reject(new Error(`load generator exited ${code}`));
      const result = JSON.parse(out) as LoadResult;
      const codes = Object.entries(result.codes)
        .map(([c, n]) => `${c}×${n}`)
        .join(' ');
      console.log(
        `${name.padEnd(22)} ${result.reqPerSec.toFixed(0).padStart(6)} req/s  p50 ${result.p50} ms  p99 ${result.p99} ms  errors ${result.errors}  non-2xx ${result.non2xx}  (${codes})`,
      );
      resolve(result);
    });
  });
}

/** Every rate limit out of the way of the load. */
export function noRateLimits(): RateLimits {
  const limits: RateLimits = { ...defaultRateLimits };
  for (const key of Object.keys(limits) as (keyof RateLimits)[]) limits[key] = 1e9;
  return limits;
}

/**
 * Express set up for answers as createApp sets it up (src/app.ts), for the bare references: no
 * ETag (Express's default hashes every body it sends, a 230 KB list page's too, which the
 * server never does) and no x-powered-by.
 */
export function bareExpress(): Express {
  const app = express();
  app.disable('x-powered-by');
  app.set('etag', false);
  return app;
}

/**
 * The body of an answer that has the status `expected`, for a bare reference's bytes.
 * @throws otherwise: a bare reference sending an error's bytes would be wrong without a sign.
 */
export async function bodyOf(answer: Promise<Response>, expected: number): Promise<string> {
  const res = await answer;
  const body = await res.text();
  if (res.status !== expected) throw new Error(`${res.url}: ${res.status} ${body.slice(0, 200)}`);
  return body;
}
