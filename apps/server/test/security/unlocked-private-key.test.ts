// A faulty client sends its private key unprotected: the server must refuse to hold a key it
// could use (DESIGN §3), at registration, password change and recovery, and store nothing.
import { recoveryStartResponseSchema } from '@medseal/contract';
import { signChallenge } from '@medseal/crypto';
import { ApiClient, codeOf } from '../helpers/client';
import { newPassword, registerUser, registrationFor, type TestUser } from '../helpers/users';
import { startTestServer, type TestServer } from '../support';

let server: TestServer;
beforeAll(async () => {
  server = await startTestServer();
});
afterAll(() => server.close());

/** The user's own private key, armored without any protection. */
const unlocked = (user: Pick<TestUser, 'key'>) => user.key.privateKey.key.armor();

describe('attack: an unprotected private key sent for storage', () => {
  it('when a registration carries an unlocked private key (either copy), then 400 key-not-locked and no account', async () => {
    for (const field of ['encryptedPrivateKey', 'recoveryEncryptedPrivateKey'] as const) {
      const { key, body } = await registrationFor({ name: 'Careless' });
      const res = await new ApiClient(server.baseUrl).post('/auth/register', {
        ...body,
        [field]: unlocked({ key }),
      });
      expect({ field, status: res.status, code: codeOf(res) }).toEqual({
        field,
        status: 400,
        code: 'key-not-locked',
      });
      expect(
        await server.connection.collection('users').countDocuments({ email: body.email }),
      ).toBe(0);
    }
  });

  it('when a password change carries an unlocked private key, then 400 key-not-locked and the password stays', async () => {
    const alice = await registerUser(server.baseUrl, { name: 'Alice' });
    const res = await alice.api.post('/auth/password', {
      currentLoginSecret: alice.loginSecret,
      ...newPassword({ encryptedPrivateKey: unlocked(alice) }),
    });
    expect({ status: res.status, code: codeOf(res) }).toEqual({
      status: 400,
      code: 'key-not-locked',
    });
    expect(
      (
        await new ApiClient(server.baseUrl).post('/auth/login', {
          email: alice.email,
          loginSecret: alice.loginSecret,
        })
      ).status,
    ).toBe(200);
  });

  it('when a recovery carries an unlocked private key, then 400 key-not-locked and the password stays', async () => {
    const bob = await registerUser(server.baseUrl, { name: 'Bob' });
    const api = new ApiClient(server.baseUrl);
    const start = recoveryStartResponseSchema.parse(
      (await api.post('/auth/recovery/start', { email: bob.email })).body,
    );
    const signature = await signChallenge({
      challenge: start.challenge,
      privateKey: bob.key.privateKey,
    });
    const res = await api.post('/auth/recovery/complete', {
      challengeId: start.challengeId,
      signature,
      ...newPassword(),
      recoveryEncryptedPrivateKey: unlocked(bob),
    });
    expect({ status: res.status, code: codeOf(res) }).toEqual({
      status: 400,
      code: 'key-not-locked',
    });
    expect(
      (
        await new ApiClient(server.baseUrl).post('/auth/login', {
          email: bob.email,
          loginSecret: bob.loginSecret,
        })
      ).status,
    ).toBe(200);
  });
});
