import { ApiClient, codeOf } from '../helpers/client';
import { armoredTo } from '../helpers/pgp';
import { recipientsOf } from '../helpers/records';
import { newRecordId, registerUser, type TestUser } from '../helpers/users';
import { startTestServer, type TestServer } from '../support';

let server: TestServer;
let alice: TestUser;
beforeAll(async () => {
  server = await startTestServer();
  alice = await registerUser(server.baseUrl, { name: 'Alice' });
});
afterAll(() => server.close());

describe('CSRF', () => {
  it.each([
    ['a foreign Origin', { origin: 'https://evil.example' }, 'origin-mismatch'],
    ['no Origin', { origin: null }, 'origin-mismatch'],
    ['an Origin with another port', { origin: 'http://127.0.0.1:1' }, 'origin-mismatch'],
    ['no X-Medseal-CSRF header', { csrf: false }, 'csrf-header-missing'],
  ] as const)(
    'when a state-changing request with a valid session cookie has %s, then 403 %s and nothing stored',
    async (_what, options, code) => {
      const body = {
        recordId: newRecordId(),
        ownerId: alice.id,
        recipients: recipientsOf(alice),
        message: await armoredTo([alice.publicKey]),
      };
      const res = await alice.api.post('/records', body, options);
      expect({ status: res.status, code: codeOf(res) }).toEqual({ status: 403, code });
      expect(
        await server.connection
          .collection('records')
          .countDocuments({ _id: body.recordId as never }),
      ).toBe(0);
    },
  );

  it('when logout is forged cross-site, then 403 and the session still works', async () => {
    const res = await alice.api.post('/auth/logout', undefined, { origin: 'https://evil.example' });
    expect(res.status).toBe(403);
    expect((await alice.api.get('/auth/me')).status).toBe(200);
  });

  it('when a login is forged cross-site (login CSRF), then 403', async () => {
    const res = await new ApiClient(server.baseUrl).post(
      '/auth/login',
      { email: alice.email, loginSecret: alice.loginSecret },
      { origin: 'https://evil.example' },
    );
    expect(res.status).toBe(403);
  });

  it('when an allowed-origins list is configured, then only those origins pass', async () => {
    const strict = await startTestServer({
      settings: { allowedOrigins: ['https://medseal.example'] },
    });
    try {
      const api = new ApiClient(strict.baseUrl);
      const self = await api.post('/auth/login', {
        email: 'a@example.org',
        loginSecret: 'a'.repeat(43),
      });
      expect(codeOf(self)).toBe('origin-mismatch');
      const listed = await api.post(
        '/auth/login',
        { email: 'a@example.org', loginSecret: 'a'.repeat(43) },
        { origin: 'https://medseal.example' },
      );
      expect(codeOf(listed)).toBe('invalid-credentials');
    } finally {
      await strict.close();
    }
  });
});
