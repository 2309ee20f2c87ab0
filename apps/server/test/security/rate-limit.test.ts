import { freshTestDatabaseUri } from '@medseal/devdb/test-database';
import { ApiClient, codeOf } from '../helpers/client';
import { collectionScans, filtersSentDuring, monitored } from '../helpers/commands';
import { randomSecret, registerUser } from '../helpers/users';
import { startTestServer, type TestServer } from '../support';
import { RateLimiter, type RateLimitRule } from '../../src/lib/rate-limit';
import { defaultRateLimits } from '../../src/services';

const WINDOW_MS = 60_000;
/** The limiter's clock: tests move it instead of sleeping. */
let now = Date.now();
let server: TestServer;
beforeAll(async () => {
  server = await startTestServer({
    mongoUri: monitored(freshTestDatabaseUri('rate_limit')),
    settings: {
      rateWindowMs: WINDOW_MS,
      clock: () => now,
      rateLimits: {
        ...defaultRateLimits,
        loginFailuresPerAccount: 3,
        recoveryPerAccount: 2,
        paramsPerIp: 50,
      },
    },
  });
});
afterAll(() => server.close());

/** How many of `attempts` passed; throws if any failed with anything but `rate-limited`. */
async function passed(attempts: Promise<unknown>[]): Promise<number> {
  const results = await Promise.allSettled(attempts);
  for (const r of results)
    if (r.status === 'rejected' && (r.reason as { code?: string }).code !== 'rate-limited')
      throw r.reason;
  return results.filter((r) => r.status === 'fulfilled').length;
}

const login = (api: ApiClient, email: string, loginSecret: string) =>
  api.post('/auth/login', { email, loginSecret });

describe('rate limits', () => {
  it('when an attacker fails logins for an account, then the attacker waits longer and longer, and the real user on her browser still gets in', async () => {
    const alice = await registerUser(server.baseUrl, { name: 'Alice' });
    const attacker = new ApiClient(server.baseUrl);
    for (let i = 0; i < 3; i++)
      expect(codeOf(await login(attacker, alice.email, randomSecret()))).toBe(
        'invalid-credentials',
      );
    const locked = await login(attacker, alice.email, alice.loginSecret);
    expect(codeOf(locked)).toBe('rate-limited');
    expect(locked.headers.get('retry-after')).toBe('1');
    // Alice's browser logged in before: its failures and successes are its own.
    expect(codeOf(await login(alice.api, alice.email, randomSecret()))).toBe('invalid-credentials');
    expect((await login(alice.api, alice.email, alice.loginSecret)).status).toBe(200);

    // Exponential backoff for the other clients: one try after 1 s, the next after 2 s more, ...
    now += 999;
    expect(codeOf(await login(attacker, alice.email, randomSecret()))).toBe('rate-limited');
    now += 1;
    expect(codeOf(await login(attacker, alice.email, randomSecret()))).toBe('invalid-credentials');
    const again = await login(attacker, alice.email, randomSecret());
    expect(codeOf(again)).toBe('rate-limited');
    expect(again.headers.get('retry-after')).toBe('2');
    now += 2_000;
    expect(codeOf(await login(attacker, alice.email, randomSecret()))).toBe('invalid-credentials');
    expect(codeOf(await login(attacker, alice.email, randomSecret()))).toBe('rate-limited');

    // A failure stops counting one window after it happened (sliding, not fixed, windows).
    now += WINDOW_MS;
    expect(
      (await login(new ApiClient(server.baseUrl), alice.email, alice.loginSecret)).status,
    ).toBe(200);
  });

  it('when another site fires pre-login requests at a victim’s email, then they need the CSRF header and never count against her account', async () => {
    const bob = await registerUser(server.baseUrl, { name: 'Bob' });
    const page = new ApiClient(server.baseUrl);
    const asImageTag = await page.get(`/auth/params?email=${encodeURIComponent(bob.email)}`, {
      csrf: false,
    });
    expect(asImageTag.status).toBe(403);
    expect(codeOf(asImageTag)).toBe('csrf-header-missing');
    for (let i = 0; i < 40; i++)
      expect((await page.get(`/auth/params?email=${encodeURIComponent(bob.email)}`)).status).toBe(
        200,
      );
    // From a browser Bob never used before.
    const fresh = new ApiClient(server.baseUrl);
    expect((await fresh.get(`/auth/params?email=${encodeURIComponent(bob.email)}`)).status).toBe(
      200,
    );
    expect((await login(fresh, bob.email, bob.loginSecret)).status).toBe(200);
  });

  it('when pre-login parameters are asked too often from one address, then 429', async () => {
    const api = new ApiClient(server.baseUrl);
    now += WINDOW_MS; // the earlier tests' requests leave the window
    const statuses: number[] = [];
    for (let i = 0; i < 52; i++)
      statuses.push((await api.get(`/auth/params?email=probe${i}%40example.org`)).status);
    expect(statuses.slice(0, 50).every((s) => s === 200)).toBe(true);
    expect(statuses.slice(50)).toEqual([429, 429]);
  });

  it('when recovery is started too often for one account, then 429', async () => {
    const carol = await registerUser(server.baseUrl, { name: 'Carol' });
    const api = new ApiClient(server.baseUrl);
    const statuses: number[] = [];
    for (let i = 0; i < 3; i++)
      statuses.push((await api.post('/auth/recovery/start', { email: carol.email })).status);
    expect(statuses).toEqual([200, 200, 429]);
  });

  it('when hits leave the window one by one, then the limit frees up as each one leaves (sliding window)', async () => {
    let t = 1_000_000;
    const limiter = new RateLimiter(server.connection, 10_000, () => t);
    const key = `slide:${randomSecret()}`;
    await limiter.hit(key, { limit: 2 });
    t += 6_000;
    await limiter.hit(key, { limit: 2 });
    t += 2_000;
    await expect(limiter.hit(key, { limit: 2 })).rejects.toMatchObject({
      code: 'rate-limited',
      details: { retryAfterSeconds: 2 },
    });
    t += 2_000; // the first hit has left; the second still counts
    await limiter.hit(key, { limit: 2 });
    await expect(limiter.hit(key, { limit: 2 })).rejects.toMatchObject({
      code: 'rate-limited',
      details: { retryAfterSeconds: 6 },
    });
  });

  it('when many attempts on a new counter race, then none fails with an error and only the limit passes', async () => {
    const limiter = new RateLimiter(server.connection, 60_000);
    const key = `burst:${randomSecret()}`;
    const results = await Promise.allSettled(
      Array.from({ length: 30 }, () => limiter.hit(key, { limit: 10 })),
    );
    const refused = results.flatMap((r) =>
      r.status === 'rejected' ? [r.reason as { code?: string }] : [],
    );
    expect(refused.every((e) => e.code === 'rate-limited')).toBe(true);
    expect(results.filter((r) => r.status === 'fulfilled').length).toBeLessThanOrEqual(10);
  });

  it('when attempts on one counter race from two server processes, then exactly the limit pass', async () => {
    // Mid-slot: the attempts' clock stays in one slot (the edge is the next test's).
    const clock = () => 7_705_000;
    const one = new RateLimiter(server.connection, 10_000, clock);
    const other = new RateLimiter(server.connection, 10_000, clock);
    for (const rule of [{ limit: 10 }, { limit: 4, backoff: { baseMs: 60_000 } }]) {
      const key = `race:${randomSecret()}`;
      const attempts = Array.from({ length: 40 }, (_, i) =>
        (i % 2 ? one : other).reserve(key, rule),
      );
      expect(await passed(attempts)).toBe(rule.limit);
      await expect(one.hit(key, rule)).rejects.toMatchObject({ code: 'rate-limited' });
    }
  });

  it('when attempts race across the edge of two slots, then no more than the limit pass', async () => {
    const edge = 9_000_000; // a slot starts here (window 10 s)
    const before = new RateLimiter(server.connection, 10_000, () => edge - 1);
    const after = new RateLimiter(server.connection, 10_000, () => edge);
    for (let round = 0; round < 3; round++) {
      const key = `edge:${randomSecret()}`;
      const rule: RateLimitRule = { limit: 6 };
      const attempts = Array.from({ length: 24 }, (_, i) =>
        (i % 2 ? before : after).hit(key, rule),
      );
      const count = await passed(attempts);
      expect(count).toBeGreaterThan(0);
      expect(count).toBeLessThanOrEqual(rule.limit);
      // What passed still counts, in both slots.
      await expect(after.hit(key, { limit: count })).rejects.toMatchObject({
        code: 'rate-limited',
      });
    }
  });

  it('when attempts are counted, refused, released and raced and a past slot is cleaned up, then every command the limiter sends is an `_id` lookup', async () => {
    let t = 5_005_000;
    const limiter = new RateLimiter(server.connection, 10_000, () => t);
    const key = `lookups:${randomSecret()}`;
    const oldIds = [1, 2, 3, 4].map((n) => `${key}:500:${n}`);
    const hits = server.connection.collection<{ _id: string }>('rate_hits');
    const sent = await filtersSentDuring(server.connection, async () => {
      const release = await limiter.reserve(key, { limit: 3, backoff: { baseMs: 1_000 } });
      await release();
      expect(await passed(Array.from({ length: 6 }, () => limiter.hit(key, { limit: 3 })))).toBe(3);
      await expect(limiter.hit(key, { limit: 3 })).rejects.toMatchObject({ code: 'rate-limited' });
      // A limit no one reaches (the benches') costs a page, not the limit's numbers.
      await limiter.hit(`${key}:unlimited`, { limit: 1e9 });
    });
    expect(await hits.countDocuments({ _id: { $in: oldIds } })).toBe(4);
    t += 40_000; // slot 500 is no longer read
    sent.push(
      ...(await filtersSentDuring(server.connection, async () => {
        await limiter.hit(key, { limit: 3 });
        await limiter.cleanup();
      })),
    );
    const filters = sent.filter((f) => f.collection.startsWith('rate_'));
    expect(new Set(filters.map((f) => `${f.command} ${f.collection}`))).toEqual(
      new Set([
        'find rate_hits',
        'update rate_hits',
        'delete rate_hits',
        'find rate_slot_keys',
        'delete rate_slot_keys',
      ]),
    );
    expect(await collectionScans(server.connection, filters)).toEqual([]);
    expect(await hits.countDocuments({ _id: { $in: [...oldIds, `${key}:504:1`] } })).toBe(1);
  });

  it('when wrong logins for one account arrive in parallel, then no more than the failure limit are tried; the rest get 429', async () => {
    const dave = await registerUser(server.baseUrl, { name: 'Dave' });
    const attempts = Array.from({ length: 12 }, () =>
      login(new ApiClient(server.baseUrl), dave.email, randomSecret()),
    );
    const codes = (await Promise.all(attempts)).map((res) => codeOf(res));
    expect(codes.filter((c) => c === 'invalid-credentials').length).toBeLessThanOrEqual(3);
    expect(codes.filter((c) => c !== 'invalid-credentials')).toEqual(
      codes.filter((c) => c === 'rate-limited'),
    );
  });

  it('when counters are looked for in the process, then there are none: they are documents in the database', async () => {
    expect(await server.connection.collection('rate_hits').countDocuments()).toBeGreaterThan(0);
  });
});
