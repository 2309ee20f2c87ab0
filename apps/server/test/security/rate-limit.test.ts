import { ApiClient, codeOf } from '../helpers/client';
import { randomSecret, registerUser } from '../helpers/users';
import { startTestServer, type TestServer } from '../support';
import { RateLimiter } from '../../src/lib/rate-limit';
import { defaultRateLimits } from '../../src/services';

const WINDOW_MS = 4_000;
let server: TestServer;
beforeAll(async () => {
  server = await startTestServer({
    settings: { rateWindowMs: WINDOW_MS, rateLimits: { ...defaultRateLimits, loginFailuresPerAccount: 3, recoveryPerAccount: 2, paramsPerIp: 5 } },
  });
});
afterAll(() => server.close());

/** Waits until the start of the next rate window, so a test's attempts fall into one window. */
async function startOfWindow() {
  const wait = WINDOW_MS - (Date.now() % WINDOW_MS) + 20;
  await new Promise((r) => setTimeout(r, wait));
}

describe('rate limits', () => {
  it('when an attacker fails logins for an account, then 429 with Retry-After, and once the window ends the real user gets in', async () => {
    const alice = await registerUser(server.baseUrl, { name: 'Alice' });
    const attacker = new ApiClient(server.baseUrl);
    await startOfWindow();
    for (let i = 0; i < 3; i++) {
      expect(codeOf(await attacker.post('/auth/login', { email: alice.email, loginSecret: randomSecret() }))).toBe('invalid-credentials');
    }
    const locked = await attacker.post('/auth/login', { email: alice.email, loginSecret: alice.loginSecret });
    expect(locked.status).toBe(429);
    expect(codeOf(locked)).toBe('rate-limited');
    const retryAfter = Number(locked.headers.get('retry-after'));
    expect(retryAfter).toBeGreaterThanOrEqual(1);
    expect(retryAfter).toBeLessThanOrEqual(WINDOW_MS / 1000);

    await new Promise((r) => setTimeout(r, retryAfter * 1000 + 50));
    const back = await new ApiClient(server.baseUrl).post('/auth/login', { email: alice.email, loginSecret: alice.loginSecret });
    expect(back.status).toBe(200);
  });

  it('when pre-login parameters are asked too often from one address, then 429', async () => {
    const api = new ApiClient(server.baseUrl);
    await startOfWindow();
    const statuses: number[] = [];
    for (let i = 0; i < 7; i++) statuses.push((await api.get(`/auth/params?email=probe${i}%40example.org`)).status);
    expect(statuses.slice(0, 5)).toEqual([200, 200, 200, 200, 200]);
    expect(statuses.slice(5)).toEqual([429, 429]);
  });

  it('when recovery is started too often for one account, then 429', async () => {
    const bob = await registerUser(server.baseUrl, { name: 'Bob' });
    const api = new ApiClient(server.baseUrl);
    await startOfWindow();
    const statuses: number[] = [];
    for (let i = 0; i < 3; i++) statuses.push((await api.post('/auth/recovery/start', { email: bob.email })).status);
    expect(statuses).toEqual([200, 200, 429]);
  });

  it('when many attempts on a new counter race, then none fails with an error and only the limit passes', async () => {
    const limiter = new RateLimiter(server.connection, 60_000);
    const key = `burst:${randomSecret()}`;
    const results = await Promise.allSettled(Array.from({ length: 30 }, () => limiter.hit(key, { limit: 10 })));
    const refused = results.flatMap((r) => (r.status === 'rejected' ? [r.reason as { code?: string }] : []));
    expect(refused.every((e) => e.code === 'rate-limited')).toBe(true);
    expect(results.filter((r) => r.status === 'fulfilled').length).toBeLessThanOrEqual(10);
  });

  it('when wrong logins for one account arrive in parallel, then no more than the failure limit are tried; the rest get 429', async () => {
    const carol = await registerUser(server.baseUrl, { name: 'Carol' });
    await startOfWindow();
    const attempts = Array.from({ length: 12 }, () => new ApiClient(server.baseUrl).post('/auth/login', { email: carol.email, loginSecret: randomSecret() }));
    const codes = (await Promise.all(attempts)).map((res) => codeOf(res));
    expect(codes.filter((c) => c === 'invalid-credentials').length).toBeLessThanOrEqual(3);
    expect(codes.filter((c) => c !== 'invalid-credentials')).toEqual(codes.filter((c) => c === 'rate-limited'));
  });

  it('when counters are looked for in the process, then there are none: they are documents in the database', async () => {
    expect(await server.connection.collection('rate_hits').countDocuments()).toBeGreaterThan(0);
  });
});
