import { signChallenge, verifyChallengeSignature } from '../src';
import { codeOf, makeUser } from './helpers';

describe('signChallenge / verifyChallengeSignature', () => {
  let me: Awaited<ReturnType<typeof makeUser>>;
  let other: Awaited<ReturnType<typeof makeUser>>;
  beforeAll(async () => {
    [me, other] = await Promise.all([makeUser('Me'), makeUser('Other')]);
  });
  const challenge = 'c2VydmVyLWNoYWxsZW5nZS0xMjM0NTY3OA';

  it('when the holder of the private key signs the challenge, then it verifies with the public key', async () => {
    const signature = await signChallenge({ challenge, privateKey: me.privateKey });
    await expect(
      verifyChallengeSignature({ challenge, signature, publicKey: me.publicKey }),
    ).resolves.toBeUndefined();
  });

  it('when the signature is for another challenge, another key, or garbage, then bad-signature', async () => {
    const signature = await signChallenge({ challenge, privateKey: me.privateKey });
    expect(
      await codeOf(
        verifyChallengeSignature({
          challenge: challenge + 'x',
          signature,
          publicKey: me.publicKey,
        }),
      ),
    ).toBe('bad-signature');
    expect(
      await codeOf(verifyChallengeSignature({ challenge, signature, publicKey: other.publicKey })),
    ).toBe('bad-signature');
    expect(
      await codeOf(
        verifyChallengeSignature({ challenge, signature: 'garbage', publicKey: me.publicKey }),
      ),
    ).toBe('bad-signature');
  });

  it('when the challenge is too short, then invalid-argument', async () => {
    expect(await codeOf(signChallenge({ challenge: 'short', privateKey: me.privateKey }))).toBe(
      'invalid-argument',
    );
  });
});
