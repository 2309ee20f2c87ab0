import { ApiClient } from '../helpers/client';
import { registerUser, registrationFor } from '../helpers/users';
import { startTestServer, type TestServer } from '../support';

let server: TestServer;
beforeAll(async () => {
  server = await startTestServer();
});
afterAll(() => server.close());

const sessionCookieOf = (res: { headers: Headers }) =>
  res.headers.getSetCookie().find((c) => c.startsWith('medseal_session=')) ?? '';

describe('session cookie lifetime (issue 15, finding 7)', () => {
  it('when a user logs in without "stay unlocked", then the session cookie has no Max-Age (it ends with the browser); with it, it has the session lifetime', async () => {
    const alice = await registerUser(server.baseUrl, { name: 'Alice' });
    const plain = await new ApiClient(server.baseUrl).post('/auth/login', {
      email: alice.email,
      loginSecret: alice.loginSecret,
    });
    expect(sessionCookieOf(plain)).not.toMatch(/Max-Age/i);
    const kept = await new ApiClient(server.baseUrl).post('/auth/login', {
      email: alice.email,
      loginSecret: alice.loginSecret,
      stayUnlocked: true,
    });
    expect(sessionCookieOf(kept)).toContain(`Max-Age=${server.settings.sessionTtlMs / 1000}`);
  });

  it('when a user registers, then the session cookie has no Max-Age either', async () => {
    const { body } = await registrationFor({ name: 'Bob' });
    const res = await new ApiClient(server.baseUrl).post('/auth/register', body);
    expect(res.status).toBe(201);
    expect(sessionCookieOf(res)).toMatch(/^medseal_session=/);
    expect(sessionCookieOf(res)).not.toMatch(/Max-Age/i);
  });
});
