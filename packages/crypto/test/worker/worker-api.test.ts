import { MessageChannel } from 'node:worker_threads';
import { proxy, type Endpoint } from 'comlink';
import { DEFAULT_KDF, createSaltSeed, type RecordId, type UserId } from '../../src';
import { createCryptoWorkerApi, exposeCryptoWorker, type CryptoWorkerApi } from '../../src/worker';
import { wrapCryptoWorker, RemoteCryptoError } from '../../src/worker/client';

const envelope = {
  recordId: 'rec-w' as RecordId,
  version: 1,
  ownerId: 'u-p' as UserId,
  authorId: 'u-p' as UserId,
  createdAt: '2026-11-27T08:00:00.000Z',
  content: { title: 'From the worker' },
};

/** Every value the API returned, flattened, must not contain key material. */
function assertNoSecrets(value: unknown): void {
  const text = JSON.stringify(value, (_k, v: unknown) =>
    v instanceof Uint8Array ? `<${v.length} bytes>` : v,
  );
  expect(text).not.toContain('PRIVATE KEY');
  expect(text).not.toMatch(/"key":\{/);
}

describe('worker API in-process (registration, login, records, lock)', () => {
  const api: CryptoWorkerApi = createCryptoWorkerApi();
  const saltSeed = createSaltSeed();
  let lockedKey: string;
  let publicKey: string;
  let recoveryLocked: string;
  let words: string[];

  it('when registering, then only handles, public data, the login secret and the locked key come back', async () => {
    const ref = await api.generateUserKey({ name: 'Pat', email: 'pat@example.org' });
    expect(ref.handle).toMatch(/^key_/);
    expect(ref.fingerprint).toMatch(/^[0-9a-f]{40}$/);
    const progress: unknown[] = [];
    const derived = await api.deriveSecrets(
      { password: 'pw-for-worker', email: 'pat@example.org', saltSeed, kdf: DEFAULT_KDF },
      (p) => progress.push(p),
    );
    expect(Object.keys(derived).sort()).toEqual(['loginSecret', 'secretHandle']);
    expect(progress).toHaveLength(3);
    lockedKey = await api.lockKey({ keyHandle: ref.handle, secretHandle: derived.secretHandle });
    publicKey = ref.publicKey;
    const recovery = await api.createRecoveryKey();
    words = recovery.words;
    recoveryLocked = await api.lockKey({
      keyHandle: ref.handle,
      secretHandle: recovery.secretHandle,
    });
    assertNoSecrets([ref, derived, recovery.secretHandle]);
    await api.lock();
    expect(await api.stats()).toEqual({ keys: 0, secrets: 0, sessionKeys: 0 });
  });

  it('when logging in with deriveAndUnlock, then records seal and open by handle; after lock the handle is unknown', async () => {
    const ref = await api.deriveAndUnlock({
      password: 'pw-for-worker',
      email: 'pat@example.org',
      saltSeed,
      kdf: DEFAULT_KDF,
      encryptedPrivateKey: lockedKey,
      registeredPublicKey: publicKey,
    });
    expect(ref.loginSecret).toMatch(/^[A-Za-z0-9_-]{43}$/);
    const sk = await api.createSessionKey();
    const sealed = await api.sealRecord({
      envelope,
      keyHandle: ref.handle,
      recipientKeys: [ref.publicKey],
      sessionKeyHandle: sk,
    });
    const opened = await api.openRecord({
      message: sealed.message,
      keyHandle: ref.handle,
      expect: {
        ...envelope,
        authorPublicKey: ref.publicKey,
        recipients: sealed.envelope.recipients,
      },
    });
    expect(opened.status).toBe('verified');
    const file = await api.sealFile({
      data: new Uint8Array([9, 9, 9]),
      keyHandle: ref.handle,
      recipientKeys: [ref.publicKey],
      sessionKeyHandle: sk,
    });
    expect(
      (
        await api.openFile({
          message: file.message,
          keyHandle: ref.handle,
          authorPublicKey: ref.publicKey,
          expectSha256: file.sha256,
        })
      ).status,
    ).toBe('verified');
    const blob = await api.sealSelfBlob({
      data: { a: 1 },
      purpose: 'contacts/v1',
      keyHandle: ref.handle,
    });
    expect(
      (await api.openSelfBlob({ message: blob, purpose: 'contacts/v1', keyHandle: ref.handle }))
        .status,
    ).toBe('verified');
    const signature = await api.signChallenge({
      challenge: 'challenge-0123456789',
      keyHandle: ref.handle,
    });
    await api.verifyChallengeSignature({
      challenge: 'challenge-0123456789',
      signature,
      publicKey: ref.publicKey,
    });
    await api.forget(sk);
    await expect(
      api.sealRecord({
        envelope,
        keyHandle: ref.handle,
        recipientKeys: [ref.publicKey],
        sessionKeyHandle: sk,
      }),
    ).rejects.toMatchObject({ code: 'unknown-handle' });
    await api.lock();
    await expect(
      api.signChallenge({ challenge: 'challenge-0123456789', keyHandle: ref.handle }),
    ).rejects.toMatchObject({ code: 'unknown-handle' });
  });

  it('when recovering with the words, then the recovery copy unlocks; a wrong password gives wrong-key-secret', async () => {
    const secretHandle = await api.recoverySecretFromWords(words.join(' '));
    const ref = await api.unlockWithSecret({
      secretHandle,
      encryptedPrivateKey: recoveryLocked,
      registeredPublicKey: publicKey,
    });
    expect(ref.fingerprint).toMatch(/^[0-9a-f]{40}$/);
    await expect(
      api.deriveAndUnlock({
        password: 'wrong',
        email: 'pat@example.org',
        saltSeed,
        kdf: DEFAULT_KDF,
        encryptedPrivateKey: lockedKey,
        registeredPublicKey: publicKey,
      }),
    ).rejects.toMatchObject({ code: 'wrong-key-secret' });
  });
});

describe('worker API across a MessageChannel with comlink', () => {
  it('when called through comlink, then results arrive, progress callbacks fire, and errors keep their code', async () => {
    const { port1, port2 } = new MessageChannel();
    exposeCryptoWorker(port1 as unknown as Endpoint);
    const remote = wrapCryptoWorker(port2 as unknown as Endpoint);
    try {
      const ref = await remote.generateUserKey({ name: 'Remote', email: 'remote@example.org' });
      expect(typeof ref.handle).toBe('string');
      const seen: unknown[] = [];
      const file = await remote.sealFile(
        {
          data: new Uint8Array(2 * 1024 * 1024 + 1),
          keyHandle: ref.handle,
          recipientKeys: [ref.publicKey],
        },
        proxy((p: unknown) => {
          seen.push(p);
        }),
      );
      expect(file.message).toBeInstanceOf(Uint8Array);
      const opened = await remote.openFile({
        message: file.message,
        keyHandle: ref.handle,
        authorPublicKey: ref.publicKey,
      });
      expect(opened.status).toBe('verified');
      await new Promise((r) => setTimeout(r, 20));
      expect(seen.length).toBeGreaterThan(1);
      const error = await remote.readPublicKey('nonsense').catch((e: unknown) => e);
      expect(error).toBeInstanceOf(RemoteCryptoError);
      expect(error).toMatchObject({ code: 'invalid-key', name: 'CryptoError' });
      expect((await remote.stats()).keys).toBe(1);
      await remote.lock();
    } finally {
      port1.close();
      port2.close();
    }
  });
});
