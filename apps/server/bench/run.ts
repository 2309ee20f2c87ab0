/**
 * Server benchmark (issue 4): autocannon, in a child process (bench/generator.ts), against the
 * real app and the real database.
 *   pnpm --filter @medseal/server bench            (20 s per run, 64 connections)
 *   BENCH_SECONDS=5 pnpm --filter @medseal/server bench
 * Runs: a bare Express route returning the same bytes from memory (set up as the server is:
 * bareExpress), GET one ~4 KiB record, bare again (the ratio is to the mean of the two bare
 * runs), list 50 records, POST a record. Prints req/s, p50/p99, errors and the ratio to bare;
 * writes bench/results.json as {"<metric>": {"value": n, "unit": "..."}}.
 */
import { readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { randomBytes } from 'node:crypto';
import { CSRF_HEADER } from '@medseal/contract';
import { createApp } from '../src/app';
import { listen } from '../src/lib/http-server';
import { createLogger } from '../src/lib/logger';
import { registerUser } from '../test/helpers/users';
import { recipientsOf, sealFor } from '../test/helpers/records';
import { testSettings } from '../test/support';
import { openBenchDatabase } from './database';
import { bareExpress, bodyOf, noRateLimits, runLoad } from './generator';
import type { LoadConfig } from './load';

const SECONDS = Number(process.env.BENCH_SECONDS ?? 20);
const CONNECTIONS = Number(process.env.BENCH_CONNECTIONS ?? 64);

/** bench/load.ts in a child process, with this bench's run length and connections. */
const bench = (name: string, config: Omit<LoadConfig, 'seconds' | 'connections'>) =>
  runLoad(name, { seconds: SECONDS, connections: CONNECTIONS, ...config });

async function main() {
  const db = await openBenchDatabase('bench');
  const { connection } = db;
  const settings = testSettings({ checkResponses: false, rateLimits: noRateLimits() });
  const app = createApp({ connection, logger: createLogger('silent'), settings });
  const http = await listen(app, { host: '127.0.0.1', port: 0 });
  const baseUrl = `http://127.0.0.1:${http.port}`;

  const alice = await registerUser(baseUrl, { name: 'Bench' });
  const content = { kind: 'note', title: 'Bench', body: 'x'.repeat(2400) };
  const recordIds: string[] = [];
  let message = '';
  for (let i = 0; i < 50; i++) {
    const recordId = randomBytes(16).toString('base64url');
    message = await sealFor({
      recordId,
      version: 1,
      owner: alice,
      author: alice,
      readers: [alice],
      content,
    });
    const res = await alice.api.post('/records', {
      recordId,
      ownerId: alice.id,
      recipients: recipientsOf(alice),
      message,
    });
    if (res.status !== 201) throw new Error(`seed failed: ${res.status}`);
    recordIds.push(recordId);
  }
  const target = recordIds[0] ?? '';
  const getBody = await bodyOf(
    fetch(`${baseUrl}/api/records/${target}`, { headers: { cookie: alice.api.cookie ?? '' } }),
    200,
  );
  console.log(
    `record GET body: ${getBody.length} bytes; message ${message.length} characters; ${SECONDS} s per run, ${CONNECTIONS} connections`,
  );

  const bare = bareExpress();
  bare.get('/bare', (_req, res) => {
    res.type('application/json').send(getBody);
  });
  const bareHttp = await listen(bare, { host: '127.0.0.1', port: 0 });

  const headers = { cookie: alice.api.cookie ?? '' };
  const bareUrl = `http://127.0.0.1:${bareHttp.port}/bare`;
  const results = {
    bare: await bench('bare', { url: bareUrl }),
    // Each connection reads the 50 records in turn (every read appends to that record's audit chain).
    get: await bench('GET record', {
      url: baseUrl,
      headers,
      requests: recordIds.map((id) => ({ method: 'GET' as const, path: `/api/records/${id}` })),
    }),
    // Bare again right after GET: the reference is the mean of the runs around it, so a machine
    // that speeds up or slows down during the bench does not bend the ratio.
    bareAfter: await bench('bare again', { url: bareUrl }),
    // Before POST, so it lists the 50 seeded records.
    list: await bench('list 50', { url: `${baseUrl}/api/records?limit=50`, headers }),
    post: await bench('POST record', {
      url: baseUrl,
      headers: { ...headers, origin: baseUrl, [CSRF_HEADER]: '1' },
      requests: [
        {
          method: 'POST',
          path: '/api/records',
          create: { ownerId: alice.id, recipients: recipientsOf(alice), message },
        },
      ],
    }),
  };
  const ratio =
    results.get.reqPerSec / ((results.bare.reqPerSec + results.bareAfter.reqPerSec) / 2);
  console.log(
    `GET / bare ratio: ${ratio.toFixed(2)} (goal >= 0.6); GET p99 ${results.get.p99} ms (goal < 50)`,
  );

  const file = join(process.cwd(), 'bench', 'results.json');
  // The scale bench's figures (scale_*) stay; this run's replace the last one's.
  const earlier = JSON.parse(await readFile(file, 'utf8').catch(() => '{}')) as Record<
    string,
    { value: number; unit: string }
  >;
  const out = Object.fromEntries(
    Object.entries(earlier).filter(([key]) => key.startsWith('scale_')),
  );
  out.get_to_bare_ratio = { value: Number(ratio.toFixed(3)), unit: 'ratio' };
  for (const [name, r] of Object.entries(results)) {
    out[`${name}_req_per_sec`] = { value: Math.round(r.reqPerSec), unit: 'req/s' };
    out[`${name}_p50_latency`] = { value: r.p50, unit: 'ms' };
    out[`${name}_p99_latency`] = { value: r.p99, unit: 'ms' };
    out[`${name}_errors`] = { value: r.errors + r.non2xx, unit: 'count' };
  }
  await writeFile(file, `${JSON.stringify(out, null, 2)}\n`);

  await bareHttp.shutdown(0);
  await http.shutdown(0);
  await connection.dropDatabase().catch(() => undefined);
  await db.close();
}

main().catch((error: unknown) => {
  console.error(error);
  process.exit(1);
});
