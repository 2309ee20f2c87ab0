import { performance } from 'node:perf_hooks';
import { ApiClient } from '../helpers/client';
import { randomSecret, registerUser } from '../helpers/users';
import { startTestServer, type TestServer } from '../support';

let server: TestServer;
beforeAll(async () => {
  server = await startTestServer();
});
afterAll(() => server.close());

/**
 * Median times of `a` and `b`, run alternately (a, b, a, b, …): a burst of load from other test
 * files then slows both alike (timed one block after the other, one side took the burst alone).
 */
async function medians(
  a: () => Promise<unknown>,
  b: () => Promise<unknown>,
  n = 9,
): Promise<[number, number]> {
  const times: [number[], number[]] = [[], []];
  for (let i = 0; i < n; i++) {
    for (const [k, run] of [a, b].entries()) {
      const t = performance.now();
      await run();
      times[k]?.push(performance.now() - t);
    }
  }
  const median = (xs: number[]) => [...xs].sort((x, y) => x - y)[Math.floor(n / 2)] ?? 0;
  return [median(times[0]), median(times[1])];
}

describe('account enumeration', () => {
  it('when logging in to an unknown email, then the answer is the same as a wrong password, and it costs the same Argon2id work', async () => {
    const alice = await registerUser(server.baseUrl, { name: 'Alice' });
    const api = new ApiClient(server.baseUrl);
    const known = await api.post('/auth/login', {
      email: alice.email,
      loginSecret: randomSecret(),
    });
    const unknown = await api.post('/auth/login', {
      email: 'nobody@example.org',
      loginSecret: randomSecret(),
    });
    expect(unknown.status).toBe(known.status);
    expect(unknown.body).toEqual(known.body);

    const [tKnown, tUnknown] = await medians(
      () => api.post('/auth/login', { email: alice.email, loginSecret: randomSecret() }),
      () => api.post('/auth/login', { email: 'nobody@example.org', loginSecret: randomSecret() }),
    );
    // Same timing class: both run one Argon2id verification (tens of ms); a shortcut would be ~10x faster.
    expect(tUnknown).toBeGreaterThan(tKnown * 0.4);
    expect(tKnown).toBeGreaterThan(tUnknown * 0.4);
  });

  it('when asking pre-login parameters for an unknown email, then the same shape and a stable, per-email fake seed', async () => {
    const alice = await registerUser(server.baseUrl, { name: 'Known' });
    const api = new ApiClient(server.baseUrl);
    const known = await api.get<{ saltSeed: string }>(
      `/auth/params?email=${encodeURIComponent(alice.email)}`,
    );
    const a1 = await api.get<{ saltSeed: string }>('/auth/params?email=ghost%40example.org');
    const a2 = await api.get<{ saltSeed: string }>('/auth/params?email=GHOST%40example.org');
    expect(a1.status).toBe(200);
    expect(Object.keys(a1.body)).toEqual(Object.keys(known.body));
    expect(a1.body.saltSeed).toHaveLength(43);
    expect(a2.body).toEqual(a1.body);
  });
});
