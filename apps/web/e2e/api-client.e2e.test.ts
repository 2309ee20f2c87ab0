import {
  CLIENT_STATUS_HEADER,
  CLIENT_VERSION_HEADER,
  CSRF_HEADER,
  endpoints,
} from '@medseal/contract';
import { startTestServer, type TestServer } from '@medseal/server/testing';
import { createHttp, type HttpOptions } from '../src/api/http';
import { ApiError } from '../src/api/errors';

// The app's fetch client against the real server (Node's fetch; same code as in the browser).
let server: TestServer;
beforeAll(async () => {
  server = await startTestServer({ settings: { minClientVersion: '2.0.0' } });
});
afterAll(async () => {
  await server?.close();
});

function client(overrides: Partial<HttpOptions> = {}) {
  const statuses: string[] = [];
  let unauthenticated = 0;
  const call = createHttp({
    baseUrl: `${server.baseUrl}/api`,
    clientVersion: '1.0.0',
    csrfHeader: CSRF_HEADER,
    clientVersionHeader: CLIENT_VERSION_HEADER,
    clientStatusHeader: CLIENT_STATUS_HEADER,
    onClientStatus: (s) => statuses.push(s),
    onUnauthenticated: () => (unauthenticated += 1),
    ...overrides,
  });
  return { call, statuses, unauthenticated: () => unauthenticated };
}

describe('API client against the real server', () => {
  it('when a GET answers, then the body is parsed with the contract schema and the client status is reported', async () => {
    const { call, statuses } = client();
    const params = await call(endpoints.authParams, { query: { email: 'nobody@example.org' } });
    expect(params.saltSeed).toMatch(/^[A-Za-z0-9_-]{43}$/);
    expect(params.kdf.algorithm).toBe('argon2id');
    expect(statuses).toContain('update-required');
  });

  it('when a call needs a session and there is none, then it throws ApiError unauthenticated and tells the app', async () => {
    const c = client();
    await expect(c.call(endpoints.me, {})).rejects.toMatchObject({
      name: 'ApiError',
      status: 401,
      code: 'unauthenticated',
    });
    expect(c.unauthenticated()).toBe(1);
  });

  it('when a state-changing request lacks the CSRF header, then the server refuses it with a stable code', async () => {
    const { call } = client({ csrfHeader: 'x-not-the-csrf-header' });
    const error = await call(endpoints.login, {
      body: { email: 'a@example.org', loginSecret: 'A'.repeat(43) },
    }).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(ApiError);
    expect(error).toMatchObject({ status: 403 });
    expect((error as ApiError).code).toMatch(/csrf|origin/);
  });

  it('when the login secret is wrong, then the error code is invalid-credentials', async () => {
    const { call } = client();
    // Node's fetch sends no Origin; a browser does. Add the one a same-origin page would send.
    const originalFetch = globalThis.fetch;
    globalThis.fetch = (input, init) =>
      originalFetch(input, {
        ...init,
        headers: { ...(init?.headers as Record<string, string>), origin: server.baseUrl },
      });
    try {
      await expect(
        call(endpoints.login, { body: { email: 'a@example.org', loginSecret: 'A'.repeat(43) } }),
      ).rejects.toMatchObject({ code: 'invalid-credentials', status: 401 });
    } finally {
      globalThis.fetch = originalFetch;
    }
  });
});
