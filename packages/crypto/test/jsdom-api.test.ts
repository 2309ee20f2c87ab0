/**
 * @jest-environment @medseal/jest-presets/jsdom-environment
 */
// The web app's component tests run under jsdom: the worker API must work there in-process.
import { createSaltSeed, DEFAULT_KDF, type RecordId, type UserId } from '../src';
import { createCryptoWorkerApi } from '../src/worker';

describe('crypto worker API under jsdom', () => {
  it('when a user registers, logs in and writes a record under jsdom, then it opens as verified', async () => {
    const api = createCryptoWorkerApi();
    const ref = await api.generateUserKey({ name: 'Jsdom', email: 'jsdom@example.org' });
    const saltSeed = createSaltSeed();
    const { secretHandle } = await api.deriveSecrets({
      password: 'pw',
      email: 'jsdom@example.org',
      saltSeed,
      kdf: DEFAULT_KDF,
    });
    const locked = await api.lockKey({ keyHandle: ref.handle, secretHandle });
    await api.lock();
    const me = await api.deriveAndUnlock({
      password: 'pw',
      email: 'jsdom@example.org',
      saltSeed,
      kdf: DEFAULT_KDF,
      encryptedPrivateKey: locked,
      registeredPublicKey: ref.publicKey,
    });
    const envelope = {
      recordId: 'r1' as RecordId,
      version: 1,
      ownerId: 'u1' as UserId,
      authorId: 'u1' as UserId,
      createdAt: new Date().toISOString(),
      content: { t: 'x' },
    };
    const sealed = await api.sealRecord({
      envelope,
      keyHandle: me.handle,
      recipientKeys: [me.publicKey],
    });
    const opened = await api.openRecord({
      message: sealed.message,
      keyHandle: me.handle,
      expect: {
        ...envelope,
        authorPublicKey: me.publicKey,
        recipients: sealed.envelope.recipients,
      },
    });
    expect(opened.status).toBe('verified');
    const file = await api.sealFile(
      { data: new Uint8Array([1, 2, 3]), keyHandle: me.handle, recipientKeys: [me.publicKey] },
      () => undefined,
    );
    expect(
      (
        await api.openFile({
          message: file.message,
          keyHandle: me.handle,
          authorPublicKey: me.publicKey,
          expectSha256: file.sha256,
        })
      ).status,
    ).toBe('verified');
    expect(await api.safetyNumber(me.fingerprint, me.fingerprint)).toMatch(/^\d{60}$/);
  });
});
