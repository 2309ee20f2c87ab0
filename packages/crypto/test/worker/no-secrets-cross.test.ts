// The worker face must never post unencrypted private key material, the key secret, the recovery
// secret or a session key to the UI thread. This test records every message the worker side
// posts over a real MessageChannel (comlink) during registration, login, recovery and record work.
import { MessageChannel, type MessagePort } from 'node:worker_threads';
import * as openpgp from 'openpgp';
import { type Endpoint } from 'comlink';
import {
  createSaltSeed,
  deriveSecrets,
  DEFAULT_KDF,
  recoverySecretFromWords,
  type RecordId,
  type UserId,
} from '../../src';
import { exposeCryptoWorker } from '../../src/worker';
import { wrapCryptoWorker } from '../../src/worker/client';

function flatten(value: unknown, out: { strings: string[]; bytes: Uint8Array[] }): void {
  if (typeof value === 'string') out.strings.push(value);
  else if (value instanceof Uint8Array) out.bytes.push(value);
  else if (value instanceof ArrayBuffer) out.bytes.push(new Uint8Array(value));
  else if (Array.isArray(value)) value.forEach((v) => flatten(v, out));
  else if (value && typeof value === 'object') Object.values(value).forEach((v) => flatten(v, out));
}

function containsBytes(haystack: Uint8Array, needle: Uint8Array): boolean {
  outer: for (let i = 0; i + needle.length <= haystack.length; i++) {
    for (let j = 0; j < needle.length; j++) if (haystack[i + j] !== needle[j]) continue outer;
    return true;
  }
  return false;
}

describe('worker face: nothing secret crosses to the UI thread', () => {
  it('when a user registers, logs in, recovers and writes a record, then no posted message holds a secret', async () => {
    const { port1, port2 } = new MessageChannel();
    const posted: unknown[] = [];
    const original = port1.postMessage.bind(port1);
    (port1 as MessagePort & { postMessage: (m: unknown, t?: unknown) => void }).postMessage = (
      message: unknown,
      transfer?: unknown,
    ) => {
      posted.push(message);
      original(message as never, transfer as never);
    };
    exposeCryptoWorker(port1 as unknown as Endpoint);
    const api = wrapCryptoWorker(port2 as unknown as Endpoint);
    const email = 'secret-check@example.org';
    const saltSeed = createSaltSeed();
    try {
      const ref = await api.generateUserKey({ name: 'Secret Check', email });
      const derived = await api.deriveSecrets({
        password: 'a password',
        email,
        saltSeed,
        kdf: DEFAULT_KDF,
      });
      const locked = await api.lockKey({
        keyHandle: ref.handle,
        secretHandle: derived.secretHandle,
      });
      const recovery = await api.createRecoveryKey();
      await api.lockKey({ keyHandle: ref.handle, secretHandle: recovery.secretHandle });
      await api.lock();
      const me = await api.deriveAndUnlock({
        password: 'a password',
        email,
        saltSeed,
        kdf: DEFAULT_KDF,
        encryptedPrivateKey: locked,
        registeredPublicKey: ref.publicKey,
      });
      const sk = await api.createSessionKey();
      const envelope = {
        recordId: 'r' as RecordId,
        version: 1,
        ownerId: 'u' as UserId,
        authorId: 'u' as UserId,
        createdAt: new Date().toISOString(),
        content: { t: 'x' },
      };
      const sealed = await api.sealRecord({
        envelope,
        keyHandle: me.handle,
        recipientKeys: [me.publicKey],
        sessionKeyHandle: sk,
      });
      await api.openRecord({
        message: sealed.message,
        keyHandle: me.handle,
        expect: {
          ...envelope,
          authorPublicKey: me.publicKey,
          recipients: sealed.envelope.recipients,
        },
      });

      // what must not appear: the key secret, the recovery secret, the session key, any unprotected private key
      const { keySecret } = await deriveSecrets({
        password: 'a password',
        email,
        saltSeed,
        kdf: DEFAULT_KDF,
      });
      const recoverySecret = await recoverySecretFromWords(recovery.words);
      const [sessionKey] = await openpgp.decryptSessionKeys({
        message: await openpgp.readMessage({ armoredMessage: sealed.message }),
        decryptionKeys: await openpgp.decryptKey({
          privateKey: await openpgp.readPrivateKey({ armoredKey: locked }),
          passphrase: Buffer.from(keySecret).toString('base64url'),
        }),
      });
      const secrets = [keySecret, recoverySecret, sessionKey?.data ?? new Uint8Array(32)];

      const found = { strings: [] as string[], bytes: [] as Uint8Array[] };
      flatten(posted, found);
      expect(found.strings.length).toBeGreaterThan(10);
      for (const secret of secrets) {
        const asText = Buffer.from(secret).toString('base64url');
        expect(found.strings.some((s) => s.includes(asText))).toBe(false);
        expect(found.bytes.some((b) => containsBytes(b, secret))).toBe(false);
      }
      for (const s of found.strings.filter((x) => x.includes('PRIVATE KEY BLOCK'))) {
        const key = await openpgp.readPrivateKey({ armoredKey: s });
        expect(key.isDecrypted()).toBe(false);
      }
    } finally {
      port1.close();
      port2.close();
    }
  });
});
