import { ApiClient, codeOf } from '../helpers/client';
import { randomSecret, registerUser } from '../helpers/users';
import { startTestServer, type TestServer } from '../support';
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

  it('when counters are looked for in the process, then there are none: they are documents in the database', async () => {
    expect(await server.connection.collection('rate_buckets').countDocuments()).toBeGreaterThan(0);
  });
});
