import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { request as httpRequest } from 'node:http';
import { setTimeout as delay } from 'node:timers/promises';
import { CSRF_HEADER } from '@medseal/contract';
import { startDevDb, type DevDb } from '@medseal/devdb';
import { ApiClient, codeOf, type ApiResponse } from './helpers/client';
import { createBody } from './helpers/records';
import { stopProcess } from './helpers/stop-process';
import { until } from './helpers/until';
import { newRecordId, registerUser, type TestUser } from './helpers/users';
import { startTestServer, type TestServer } from './support';

// Needs a database this test may stop and start again on the same port.
const ownsDatabase = process.env.MEDSEAL_TEST_DB_ENGINE !== 'external';

describe('the database going away mid-burst', () => {
  (ownsDatabase ? it : it.skip)(
    'when the database stops during a burst of writes, then every write that got 2xx is there after restart and the others got 503, none 500 or a hang',
    async () => {
      const dataDir = await mkdtemp(join(tmpdir(), 'medseal-fault-'));
      let db: DevDb = await startDevDb({ dataDir });
      const port = Number(new URL(db.uri).port);
      const server = await startTestServer({ mongoUri: new URL('fault', db.uri).toString() });
      try {
        const alice = await registerUser(server.baseUrl, { name: 'Alice' });
        const makeBody = () => createBody(alice, alice, [alice]);
        const results: { id: string; res: ApiResponse }[] = [];
        let stopped = false;
        let batchesAfterStop = 0;
        // Batches of 4 concurrent writes until two whole batches ran after the database was gone.
        const burst = (async () => {
          while (batchesAfterStop < 2) {
            if (stopped) batchesAfterStop++;
            const batch = await Promise.all([makeBody(), makeBody(), makeBody(), makeBody()]);
            const answers = await Promise.all(batch.map((b) => alice.api.post('/records', b)));
            answers.forEach((res, j) => results.push({ id: batch[j]?.recordId ?? '', res }));
          }
        })();
        while (results.length < 8) await new Promise((r) => setTimeout(r, 5));
        await db.stop();
        stopped = true;
        await burst;

        const statuses = results.map((r) => r.res.status);
        expect(
          results
            .filter((r) => r.res.status !== 201 && r.res.status !== 503)
            .map((r) => ({ status: r.res.status, body: r.res.body })),
        ).toEqual([]);
        expect(statuses).toContain(503);
        for (const r of results.filter((x) => x.res.status === 503))
          expect(codeOf(r.res)).toBe('database-unavailable');

        db = await startDevDb({ dataDir, port });
        let ok = false;
        for (let i = 0; i < 60 && !ok; i++) {
          ok = (await alice.api.get('/auth/me')).status === 200;
          if (!ok) await new Promise((r) => setTimeout(r, 250));
        }
        expect(ok).toBe(true);
        for (const r of results.filter((x) => x.res.status === 201)) {
          expect({ id: r.id, status: (await alice.api.get(`/records/${r.id}`)).status }).toEqual({
            id: r.id,
            status: 200,
          });
        }
      } finally {
        await server.close();
        await db.stop();
        await rm(dataDir, { recursive: true, force: true });
      }
    },
  );
});

describe('a stalled or killed embedded database', () => {
  let db: DevDb;
  let server: TestServer;
  let alice: TestUser;
  const lines: string[] = [];
  beforeAll(async () => {
    db = await startDevDb({ log: (line) => lines.push(line) });
    server = await startTestServer({ mongoUri: new URL('stall', db.uri).toString() });
    alice = await registerUser(server.baseUrl, { name: 'Alice Stalled' });
  });
  afterAll(async () => {
    await server?.close();
    await db?.stop();
  });

  const supervised = () => (db.engine === 'ferretdb' && db.pid ? db.pid() : undefined);
  const newBody = () => createBody(alice, alice, [alice]);
  const timed = async (call: () => Promise<ApiResponse>) => {
    const started = performance.now();
    const res = await call();
    return { status: res.status, code: codeOf(res), ms: performance.now() - started };
  };

  it('when the database process is stopped (SIGSTOP), then writes and lists answer 503 database-unavailable within 3 s, and work again once it runs', async () => {
    const pid = supervised();
    if (pid === undefined) return; // needs the embedded FerretDB's process
    // Made before: the client's encryption is not part of the answer's time (under a loaded CI
    // it took the later one past 3 s).
    const [body, laterBody] = await Promise.all([newBody(), newBody()]);
    await stopProcess(pid);
    try {
      // The last one arrives while the others' writes wait on the stalled database: it must not
      // wait for their round to fail first and then for its own (5 s; CI, 2026-12-03).
      const answers = await Promise.all([
        timed(() => alice.api.post('/records', body)),
        timed(() => alice.api.get('/records')),
        delay(500).then(() => timed(() => alice.api.get('/records'))),
      ]);
      // All three at once: a failure shows each answer.
      expect(answers.map((a) => ({ status: a.status, code: a.code }))).toEqual(
        answers.map(() => ({ status: 503, code: 'database-unavailable' })),
      );
      expect(Math.max(...answers.map((a) => a.ms))).toBeLessThan(3_000);
      const later = await timed(() => alice.api.post('/records', laterBody));
      expect({ status: later.status, code: later.code }).toEqual({
        status: 503,
        code: 'database-unavailable',
      });
      expect(later.ms).toBeLessThan(3_000);
    } finally {
      process.kill(pid, 'SIGCONT');
    }
    await expect(
      until(async () => (await alice.api.post('/records', await newBody())).status === 201, 10_000),
    ).resolves.toBeLessThan(10_000);
  });

  it('when the database process is killed (kill -9), then it is started again, /api/health says ok, and requests work within 5 s', async () => {
    const pid = supervised();
    if (pid === undefined) return;
    process.kill(pid, 'SIGKILL');
    const ms = await until(
      async () =>
        (await fetch(`${server.baseUrl}/api/health`)).status === 200 &&
        (await alice.api.post('/records', await newBody())).status === 201,
      5_000,
    );
    expect(ms).toBeLessThan(5_000);
    expect(lines.join('\n')).toMatch(/FerretDB exited \(SIGKILL\)/);
  });
});

describe('clients that leave while their session is checked', () => {
  it('when live streams and uploads are dropped while the paused database holds their session check, then once it runs they hold no timer and no upload slot', async () => {
    const db = await startDevDb();
    const pid = db.engine === 'ferretdb' ? db.pid?.() : undefined;
    // The read cache off: every session check asks the database.
    const server = await startTestServer({
      mongoUri: new URL('leaving', db.uri).toString(),
      settings: { readCacheTtlMs: 0 },
    });
    try {
      if (pid === undefined) return; // needs the embedded FerretDB's process
      const lea = await registerUser(server.baseUrl, { name: 'Lea Leaving' });
      const cookie = lea.api.cookie ?? '';
      const timers = () => process.getActiveResourcesInfo().filter((r) => r === 'Timeout').length;
      const before = timers();
      await stopProcess(pid);
      try {
        const live = Array.from({ length: 10 }, () =>
          httpRequest(`${server.baseUrl}/api/live`, { headers: { cookie } }),
        );
        // One session has 4 upload slots: 5 that never gave theirs back would leave none.
        const uploads = Array.from({ length: 5 }, () =>
          httpRequest(`${server.baseUrl}/api/records/${newRecordId()}/attachments`, {
            method: 'POST',
            headers: {
              'content-type': 'application/octet-stream',
              'content-length': '1024',
              [CSRF_HEADER]: '1',
              origin: server.baseUrl,
              cookie,
            },
          }),
        );
        for (const req of [...live, ...uploads]) {
          req.on('error', () => undefined);
          req.flushHeaders();
        }
        await delay(300); // the server has read them and waits on the session check
        for (const req of [...live, ...uploads]) req.destroy();
        await delay(200);
      } finally {
        process.kill(pid, 'SIGCONT');
      }
      // The dropped requests' session checks are answered within milliseconds once it runs;
      // under heavy load a slow one may pass this check unseen, never fail it.
      await delay(500);
      const upload = await new ApiClient(server.baseUrl).request(
        'POST',
        `/records/${newRecordId()}/attachments`,
        { raw: { data: Buffer.alloc(10), contentType: 'application/octet-stream' }, cookie },
      );
      expect(codeOf(upload)).toBe('record-not-found');
      // Each stream kept open would hold its heartbeat timer (and the process) for good.
      expect(timers() - before).toBeLessThan(5);
    } finally {
      await server.close();
      await db.stop();
    }
  });
});
