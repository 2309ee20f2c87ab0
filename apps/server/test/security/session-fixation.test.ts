import { randomBytes } from 'node:crypto';
import { ApiClient } from '../helpers/client';
import { registerUser } from '../helpers/users';
import { startTestServer, type TestServer } from '../support';

let server: TestServer;
beforeAll(async () => {
  server = await startTestServer();
});
afterAll(() => server.close());

describe('session fixation', () => {
  it('when a login request carries a token the attacker planted, then the server issues a new one and the planted one never works', async () => {
    const alice = await registerUser(server.baseUrl, { name: 'Alice' });
    const planted = `medseal_session=${randomBytes(32).toString('base64url')}`;
    const victim = new ApiClient(server.baseUrl);
    victim.cookie = planted;
    const res = await victim.post('/auth/login', {
      email: alice.email,
      loginSecret: alice.loginSecret,
    });
    expect(res.status).toBe(200);
    expect(victim.cookie).toBeDefined();
    expect(victim.cookie).not.toBe(planted);
    expect((await victim.get('/auth/me')).status).toBe(200);
    expect((await victim.get('/auth/me', { cookie: planted })).status).toBe(401);
  });

  it('when a user logs in again on the same client, then the previous token of that client is ended', async () => {
    const alice = await registerUser(server.baseUrl, { name: 'Again' });
    const first = alice.api.cookie;
    await alice.api.post('/auth/login', { email: alice.email, loginSecret: alice.loginSecret });
    expect(alice.api.cookie).not.toBe(first);
    expect((await alice.api.get('/auth/me', { cookie: first ?? null })).status).toBe(401);
    expect((await alice.api.get('/auth/me')).status).toBe(200);
  });

  it('when only the stored token hash is known (a database leak), then it does not work as a cookie', async () => {
    const alice = await registerUser(server.baseUrl, { name: 'Leak' });
    const stored = await server.connection.collection('sessions').findOne({ userId: alice.id });
    const hash = String(stored?._id);
    expect(alice.api.cookie).not.toContain(hash);
    const asCookie = `medseal_session=${Buffer.from(hash, 'hex').toString('base64url')}`;
    expect((await alice.api.get('/auth/me', { cookie: asCookie })).status).toBe(401);
  });
});
