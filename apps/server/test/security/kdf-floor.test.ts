import { MIN_KDF } from '@medseal/crypto';
import { ApiClient, codeOf } from '../helpers/client';
import { newPassword, registerUser, registrationFor } from '../helpers/users';
import { startTestServer, type TestServer } from '../support';

let server: TestServer;
beforeAll(async () => {
  server = await startTestServer();
});
afterAll(() => server.close());

const weak = [
  { algorithm: 'argon2id', memoryKiB: 19 * 1024, iterations: 2, parallelism: 1 },
  { ...MIN_KDF, memoryKiB: MIN_KDF.memoryKiB - 1 },
  { ...MIN_KDF, iterations: MIN_KDF.iterations - 1 },
];

describe('the server keeps the client KDF floor (issue 15, finding 8)', () => {
  it.each(weak)(
    'when an account registers with %o, then 400 kdf-too-weak and no account is made',
    async (kdf) => {
      const { body } = await registrationFor({ name: 'Weak' });
      const res = await new ApiClient(server.baseUrl).post('/auth/register', { ...body, kdf });
      expect(res.status).toBe(400);
      expect(codeOf(res)).toBe('kdf-too-weak');
      expect(
        await server.connection.collection('users').countDocuments({ email: body.email }),
      ).toBe(0);
    },
  );

  it('when a password change sends weaker parameters, then 400 kdf-too-weak and the old password still works', async () => {
    const alice = await registerUser(server.baseUrl, { name: 'Alice' });
    const res = await alice.api.post('/auth/password', {
      currentLoginSecret: alice.loginSecret,
      ...newPassword(),
      kdf: weak[0],
    });
    expect(codeOf(res)).toBe('kdf-too-weak');
    expect(
      (
        await new ApiClient(server.baseUrl).post('/auth/login', {
          email: alice.email,
          loginSecret: alice.loginSecret,
        })
      ).status,
    ).toBe(200);
  });

  it('when an account registers with exactly the client floor, then it is made', async () => {
    const { body } = await registrationFor({ name: 'Floor' });
    expect(
      (await new ApiClient(server.baseUrl).post('/auth/register', { ...body, kdf: MIN_KDF }))
        .status,
    ).toBe(201);
  });
});
