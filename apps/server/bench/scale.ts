/**
 * Scale benchmark (issue 11): the real server on the real database, the load generator in a
 * child process (bench/load.ts, autocannon), bare Express serving the same bytes in the same run.
 *   pnpm --filter @medseal/server bench:scale
 *   BENCH_RECORDS=10000 BENCH_SECONDS=5 pnpm --filter @medseal/server bench:scale
 * Seeds BENCH_RECORDS (100,000) records through the server's own storage code
 * (storeNewRecords): one user with a tenth of them (10,000), one with 50, the rest spread over
 * 998 more owners. Measures the list as the database grows (1,000 → 10,000 → 100,000), then at
 * full size: bare, GET, bare again, list page 1 and page 50 of the big user, the 50-record
 * user's list, bare Express sending a list page's bytes (the list's reference: a page is ~50
 * GETs' bytes), bare Express answering the mixed run's requests with the server's bytes (its
 * reference, before and after it), mixed 80/15/5 GET/list/POST, POST, and the driver alone
 * writing what one POST stores. Prints each run and adds `scale_*` figures to bench/results.json.
 * BENCH_LOG_LEVEL=error prints the server's log of each 5xx (what a 503 was) to stderr.
 */
import { randomBytes } from 'node:crypto';
import { readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import express from 'express';
import { CSRF_HEADER, recordListResponseSchema } from '@medseal/contract';
import { createApp } from '../src/app';
import { storeNewRecords, type NewRecord } from '../src/components/records/use-cases';
import { LONG_OPERATION } from '../src/lib/db';
import { listen } from '../src/lib/http-server';
import { newId } from '../src/lib/ids';
import { createLogger } from '../src/lib/logger';
import { createServices } from '../src/services';
import { recipientsOf, sealFor } from '../test/helpers/records';
import { registerUser, type TestUser } from '../test/helpers/users';
import { testSettings } from '../test/support';
import type { LoadConfig, LoadRequest, LoadResult } from './load';
import { bareExpress, bodyOf, noRateLimits, runLoad } from './generator';
import { openBenchDatabase } from './database';

const RECORDS = Number(process.env.BENCH_RECORDS ?? 100_000);
const SECONDS = Number(process.env.BENCH_SECONDS ?? 10);
const CONNECTIONS = Number(process.env.BENCH_CONNECTIONS ?? 64);
/** Records per call of the storage code while seeding, and calls at once. */
const SEED_BATCH = 100;
const SEED_CONCURRENCY = 2;
const OTHER_OWNERS = 998;
const PAGE = 50;

/** bench/load.ts in a child process, with this bench's run length and connections unless given. */
const load = (
  name: string,
  config: Omit<LoadConfig, 'seconds' | 'connections'> & Partial<LoadConfig>,
) => runLoad(name, { seconds: SECONDS, connections: CONNECTIONS, ...config });

/** The cursor of page `page` (1-based) of a user's list, walked page by page. */
async function cursorOfPage(
  baseUrl: string,
  user: TestUser,
  page: number,
): Promise<string | undefined> {
  let before: string | undefined;
  for (let p = 1; p < page; p++) {
    const res = await user.api.get(`/records?limit=${PAGE}${before ? `&before=${before}` : ''}`);
    before = recordListResponseSchema.parse(res.body).nextCursor;
    if (!before) throw new Error(`the list of ${user.name} has fewer than ${page} pages`);
  }
  return before;
}

async function main(): Promise<void> {
  const db = await openBenchDatabase('scale');
  const { connection } = db;
  const settings = testSettings({
    checkResponses: false,
    rateLimits: noRateLimits(),
  });
  const logger = createLogger(process.env.BENCH_LOG_LEVEL ?? 'silent');
  const app = createApp({ connection, logger, settings });
  const http = await listen(app, { host: '127.0.0.1', port: 0 });
  const baseUrl = `http://127.0.0.1:${http.port}`;
  const storage = createServices(connection, logger, settings);

  const big = await registerUser(baseUrl, { name: 'Big' });
  const small = await registerUser(baseUrl, { name: 'Small' });
  const content = { kind: 'note', title: 'Bench', body: 'x'.repeat(2400) };
  const sealed = async (user: TestUser) =>
    sealFor({ recordId: newId(), version: 1, owner: user, author: user, readers: [user], content });
  const bigMessage = await sealed(big);
  const smallMessage = await sealed(small);
  const others = Array.from({ length: OTHER_OWNERS }, () => ({
    userId: newId(),
    fingerprint: randomBytes(20).toString('hex'),
  }));

  /** Record `i` of the seed: the first 50 the small user's, every tenth the big user's, the rest the others'. */
  const seedRecord = (i: number): NewRecord => {
    const recordId = newId();
    if (i < 50)
      return {
        recordId,
        ownerId: small.id,
        authorId: small.id,
        recipients: recipientsOf(small),
        message: smallMessage,
      };
    if (i % 10 === 0)
      return {
        recordId,
        ownerId: big.id,
        authorId: big.id,
        recipients: recipientsOf(big),
        message: bigMessage,
      };
    const owner = others[i % OTHER_OWNERS] ?? { userId: big.id, fingerprint: big.fingerprint };
    return {
      recordId,
      ownerId: owner.userId,
      authorId: owner.userId,
      recipients: [owner],
      message: bigMessage,
    };
  };
  let seeded = 0;
  /** Seeds up to `total` records, SEED_BATCH per call of the storage code, a few calls at once. */
  const seedTo = async (total: number) => {
    const started = performance.now();
    const from = seeded;
    let next = seeded;
    await Promise.all(
      Array.from({ length: SEED_CONCURRENCY }, async () => {
        while (next < total) {
          const batch = Array.from({ length: Math.min(SEED_BATCH, total - next) }, () =>
            seedRecord(next++),
          );
          await storeNewRecords(storage, batch);
        }
      }),
    );
    seeded = total;
    console.log(
      `seeded ${from}→${total} records in ${((performance.now() - started) / 1000).toFixed(1)} s`,
    );
  };

  const cookie = (user: TestUser) => ({ cookie: user.api.cookie ?? '' });
  const listUrl = (before?: string) =>
    `${baseUrl}/api/records?limit=${PAGE}${before ? `&before=${before}` : ''}`;
  const growth: Record<string, LoadResult> = {};
  for (const stage of [1_000, 10_000, 100_000].filter((n) => n < RECORDS).concat(RECORDS)) {
    await seedTo(stage);
    growth[`small_list_at_${stage}`] = await load(`list 50-user @${stage}`, {
      url: listUrl(),
      headers: cookie(small),
      seconds: Math.min(SECONDS, 5),
      connections: 16,
    });
    growth[`big_list_at_${stage}`] = await load(`list big user @${stage}`, {
      url: listUrl(),
      headers: cookie(big),
      seconds: Math.min(SECONDS, 5),
      connections: 16,
    });
  }

  const post: LoadRequest = {
    method: 'POST',
    path: '/api/records',
    create: { ownerId: big.id, recipients: recipientsOf(big), message: bigMessage },
  };
  const writeHeaders = { ...cookie(big), origin: baseUrl, [CSRF_HEADER]: '1' };
  const postBody = await bodyOf(
    fetch(`${baseUrl}/api/records`, {
      method: 'POST',
      headers: { ...writeHeaders, 'content-type': 'application/json' },
      body: JSON.stringify({ recordId: newId(), ...post.create }),
    }),
    201,
  );
  const bigIds = recordListResponseSchema
    .parse((await big.api.get(`/records?limit=${PAGE}`)).body)
    .records.map((r) => r.id);
  const firstId = bigIds[0];
  if (!firstId) throw new Error('the big user lists no records');
  const getBody = await bodyOf(
    fetch(`${baseUrl}/api/records/${firstId}`, { headers: cookie(big) }),
    200,
  );
  const listBody = await bodyOf(fetch(listUrl(), { headers: cookie(big) }), 200);
  // Bare Express on the API's paths, answering each with the server's bytes for it: the
  // reference of the GET, of a list page (~50 GETs' bytes) and of the mixed run (its requests
  // as they are; a POST's JSON body read and parsed, as any Express app taking JSON does).
  const bare = bareExpress();
  bare.get('/api/records', (_req, res) => {
    res.type('application/json').send(listBody);
  });
  bare.get('/api/records/:recordId', (_req, res) => {
    res.type('application/json').send(getBody);
  });
  bare.post('/api/records', express.json({ limit: '1mb' }), (_req, res) => {
    res.status(201).type('application/json').send(postBody);
  });
  const bareHttp = await listen(bare, { host: '127.0.0.1', port: 0 });
  const bareBase = `http://127.0.0.1:${bareHttp.port}`;
  const bareUrl = `${bareBase}/api/records/${firstId}`;
  const bareListUrl = `${bareBase}/api/records?limit=${PAGE}`;
  const lastPage = Math.min(50, Math.floor(RECORDS / 10 / PAGE));
  const page50 = await cursorOfPage(baseUrl, big, lastPage);
  const gets: LoadRequest[] = bigIds.map((id) => ({ method: 'GET', path: `/api/records/${id}` }));
  // 80/15/5: per 20 requests 16 GETs, 3 lists, 1 POST.
  const mixed: LoadRequest[] = [
    ...gets.slice(0, 16),
    ...Array.from({ length: 3 }, (): LoadRequest => ({
      method: 'GET',
      path: `/api/records?limit=${PAGE}`,
    })),
    post,
  ];
  console.log(
    `${RECORDS} records; GET body ${getBody.length} bytes, list page ${listBody.length} bytes, POST answer ${postBody.length} bytes; ${SECONDS} s per run, ${CONNECTIONS} connections; page ${lastPage} of the big user's list for "page 50"`,
  );

  const runs = {
    bare: await load('bare', { url: bareUrl }),
    get: await load('GET record', { url: baseUrl, headers: cookie(big), requests: gets }),
    bareAfter: await load('bare again', { url: bareUrl }),
    listPage1: await load('list big p1', { url: listUrl(), headers: cookie(big) }),
    listPage50: await load(`list big p${lastPage}`, { url: listUrl(page50), headers: cookie(big) }),
    listSmall: await load('list 50-user', { url: listUrl(), headers: cookie(small) }),
    bareList: await load('bare list page', { url: bareListUrl }),
    bareMixed: await load('bare mixed', { url: bareBase, headers: writeHeaders, requests: mixed }),
    mixed: await load('mixed 80/15/5', { url: baseUrl, headers: writeHeaders, requests: mixed }),
    bareMixedAfter: await load('bare mixed again', {
      url: bareBase,
      headers: writeHeaders,
      requests: mixed,
    }),
    bareLast: await load('bare last', { url: bareUrl }),
    post: await load('POST record', { url: baseUrl, headers: writeHeaders, requests: [post] }),
  };
  const driver = await driverWrites(storage, big);
  console.log(
    `driver alone         ${driver.toFixed(0).padStart(6)} POST-sets/s (feed entry, record, version, audit event; ${CONNECTIONS} at once)`,
  );

  const bareMean = (runs.bare.reqPerSec + runs.bareAfter.reqPerSec + runs.bareLast.reqPerSec) / 3;
  const ratios = {
    get_to_bare: runs.get.reqPerSec / bareMean,
    mixed_to_bare: runs.mixed.reqPerSec / bareMean,
    mixed_to_bare_mixed:
      runs.mixed.reqPerSec / ((runs.bareMixed.reqPerSec + runs.bareMixedAfter.reqPerSec) / 2),
    post_to_driver: runs.post.reqPerSec / driver,
    list_page50_to_page1_p50: runs.listPage50.p50 / Math.max(runs.listPage1.p50, 1),
    list_page1_to_bare_list: runs.listPage1.reqPerSec / runs.bareList.reqPerSec,
  };
  console.log(
    Object.entries(ratios)
      .map(([k, v]) => `${k} ${v.toFixed(2)}`)
      .join('  '),
  );

  const file = join(process.cwd(), 'bench', 'results.json');
  const earlier = JSON.parse(await readFile(file, 'utf8').catch(() => '{}')) as Record<
    string,
    { value: number; unit: string }
  >;
  // The figures of bench/run.ts stay; this run's replace the last one's.
  const results = Object.fromEntries(
    Object.entries(earlier).filter(([key]) => !key.startsWith('scale_')),
  );
  results.scale_records = { value: RECORDS, unit: 'count' };
  for (const [name, r] of Object.entries({ ...runs, ...growth })) {
    results[`scale_${name}_req_per_sec`] = { value: Math.round(r.reqPerSec), unit: 'req/s' };
    results[`scale_${name}_p50_latency`] = { value: r.p50, unit: 'ms' };
    results[`scale_${name}_p99_latency`] = { value: r.p99, unit: 'ms' };
    results[`scale_${name}_errors`] = { value: r.errors + r.non2xx, unit: 'count' };
  }
  results.scale_driver_post_sets_per_sec = { value: Math.round(driver), unit: 'req/s' };
  for (const [name, v] of Object.entries(ratios))
    results[`scale_${name}_ratio`] = { value: Number(v.toFixed(3)), unit: 'ratio' };
  await writeFile(file, `${JSON.stringify(results, null, 2)}\n`);

  await bareHttp.shutdown(0);
  await http.shutdown(0);
  await connection.dropDatabase().catch(() => undefined);
  await db.close();
}

/**
 * The database's own limit for what one POST stores: CONNECTIONS loops, each inserting a feed
 * entry, a record, version 1 and an audit event with the driver alone (no server), for
 * SECONDS. Returns such sets per second. No operation timeout: under this load a busy
 * machine's FerretDB took longer than the server's 2.5 s for some inserts, which ended the bench.
 */
async function driverWrites(
  storage: ReturnType<typeof createServices>,
  user: TestUser,
): Promise<number> {
  const db = storage.connection.db;
  if (!db) throw new Error('no database');
  const [feed, records, versions, audit] = [
    'record_feed_driver',
    'records_driver',
    'record_versions_driver',
    'audit_events_driver',
  ].map((name) => db.collection<Record<string, unknown> & { _id: string }>(name));
  if (!feed || !records || !versions || !audit) throw new Error('no collections');
  const message =
    (await storage.models.records.findOne({ ownerId: user.id }, { message: 1 }).lean())?.message ??
    '';
  let sets = 0;
  const until = Date.now() + SECONDS * 1000;
  await Promise.all(
    Array.from({ length: CONNECTIONS }, async () => {
      while (Date.now() < until) {
        const id = newId();
        const at = new Date();
        await feed.insertOne({ _id: `${user.id}:${id}`, recordId: id }, LONG_OPERATION);
        await records.insertOne(
          {
            _id: id,
            ownerId: user.id,
            authorId: user.id,
            creatorId: user.id,
            recipients: recipientsOf(user),
            readerIds: [user.id],
            feedSeqs: [1],
            version: 1,
            rev: 1,
            createdAt: at,
            updatedAt: at,
            message,
          },
          LONG_OPERATION,
        );
        await versions.insertOne(
          {
            _id: `${id}:1`,
            recordId: id,
            version: 1,
            authorId: user.id,
            recipients: recipientsOf(user),
            message,
            size: message.length,
            createdAt: at,
          },
          LONG_OPERATION,
        );
        await audit.insertOne(
          {
            _id: `${id}:1`,
            recordId: id,
            ownerId: user.id,
            seq: 1,
            actorId: user.id,
            action: 'create',
            at,
            prevHash: '0'.repeat(64),
            hash: '0'.repeat(64),
          },
          LONG_OPERATION,
        );
        sets++;
      }
    }),
  );
  return sets / SECONDS;
}

main().catch((error: unknown) => {
  console.error(error);
  process.exit(1);
});
