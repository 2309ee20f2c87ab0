import { randomBytes } from 'node:crypto';
import { lockPrivateKey, signChallenge } from '@medseal/crypto';
import { recoveryStartResponseSchema } from '@medseal/contract';
import { ApiClient, codeOf } from '../helpers/client';
import { newPassword, recoveredPassword, registerUser, type TestUser } from '../helpers/users';
import { startTestServer, type TestServer } from '../support';

let server: TestServer;
beforeAll(async () => {
  server = await startTestServer();
});
afterAll(() => server.close());

async function recover(user: TestUser, body: Record<string, unknown>) {
  const start = recoveryStartResponseSchema.parse(
    (await new ApiClient(server.baseUrl).post('/auth/recovery/start', { email: user.email })).body,
  );
  const signature = await signChallenge({
    challenge: start.challenge,
    privateKey: user.key.privateKey,
  });
  return {
    start,
    res: await new ApiClient(server.baseUrl).post('/auth/recovery/complete', {
      challengeId: start.challengeId,
      signature,
      ...body,
    }),
  };
}

describe('a recovery issues a new recovery kit (issue 15, finding 9)', () => {
  it('when a recovery completes, then the used recovery copy is replaced by the new one: the old words unlock nothing the server still has', async () => {
    const alice = await registerUser(server.baseUrl, { name: 'Alice' });
    const fresh = await lockPrivateKey({
      privateKey: alice.key.privateKey,
      secret: randomBytes(32),
    });
    const { start, res } = await recover(
      alice,
      recoveredPassword({ recoveryEncryptedPrivateKey: fresh as string }),
    );
    expect(res.status).toBe(200);
    const next = recoveryStartResponseSchema.parse(
      (await new ApiClient(server.baseUrl).post('/auth/recovery/start', { email: alice.email }))
        .body,
    );
    expect(next.recoveryEncryptedPrivateKey).toBe(fresh);
    expect(next.recoveryEncryptedPrivateKey).not.toBe(start.recoveryEncryptedPrivateKey);
  });

  it('when a recovery sends no new recovery copy, then 400 and the password stays', async () => {
    const bob = await registerUser(server.baseUrl, { name: 'Bob' });
    const { res } = await recover(bob, newPassword());
    expect(res.status).toBe(400);
    expect(codeOf(res)).toBe('invalid-input');
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
