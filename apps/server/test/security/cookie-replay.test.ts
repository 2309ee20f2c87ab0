import { ApiClient } from '../helpers/client';
import { fixture, randomSecret, registerUser, TEST_KDF } from '../helpers/users';
import { startTestServer, type TestServer } from '../support';

let server: TestServer;
beforeAll(async () => {
  server = await startTestServer();
});
afterAll(() => server.close());

describe('cookie replay', () => {
  it('when a cookie is replayed after logout, then 401; the logout answer told the browser to clear the site data', async () => {
    const alice = await registerUser(server.baseUrl, { name: 'Alice' });
    const stolen = alice.api.cookie ?? null;
    const res = await alice.api.post('/auth/logout');
    expect(res.status).toBe(204);
    expect(res.headers.getSetCookie()[0]).toMatch(/Max-Age=0/);
    // Not "storage": it would erase the device's account-state high-water mark (DESIGN §12).
    expect(res.headers.get('clear-site-data')).toBe('"cache"');
    expect((await new ApiClient(server.baseUrl).get('/auth/me', { cookie: stolen })).status).toBe(
      401,
    );
  });

  it('when a cookie from another device is replayed after a password change, then 401', async () => {
    const alice = await registerUser(server.baseUrl, { name: 'Bob' });
    const otherDevice = new ApiClient(server.baseUrl);
    await otherDevice.post('/auth/login', { email: alice.email, loginSecret: alice.loginSecret });
    const stolen = otherDevice.cookie ?? null;
    const res = await alice.api.post('/auth/password', {
      currentLoginSecret: alice.loginSecret,
      newLoginSecret: randomSecret(),
      newSaltSeed: randomSecret(),
      kdf: TEST_KDF,
      encryptedPrivateKey: fixture('locked-private-key.asc'),
    });
    expect(res.status).toBe(204);
    expect((await new ApiClient(server.baseUrl).get('/auth/me', { cookie: stolen })).status).toBe(
      401,
    );
  });

  it('when a session has expired, then its cookie gives 401', async () => {
    const short = await startTestServer({ settings: { sessionTtlMs: 2_000 } });
    try {
      const alice = await registerUser(short.baseUrl, { name: 'Expiring' });
      expect((await alice.api.get('/auth/me')).status).toBe(200);
      await new Promise((r) => setTimeout(r, 2_300));
      expect((await alice.api.get('/auth/me')).status).toBe(401);
    } finally {
      await short.close();
    }
  });
});
