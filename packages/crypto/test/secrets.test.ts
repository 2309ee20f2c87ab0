import { createHmac } from 'node:crypto';
import { argon2id } from 'hash-wasm';
import {
  checkKdf,
  createSaltSeed,
  deriveSecrets,
  DEFAULT_KDF,
  MIN_KDF,
  type KdfProgress,
} from '../src';
import { codeOf } from './helpers';

// Argon2id at 64 MiB is slow-ish: this file runs it three times in total.
describe('deriveSecrets', () => {
  const saltSeed = createSaltSeed();
  const progress: KdfProgress[] = [];
  let first: { loginSecret: string; keySecret: Uint8Array };

  beforeAll(async () => {
    first = await deriveSecrets({
      password: 'correct horse battery staple',
      email: 'Ada@Example.org',
      saltSeed,
      kdf: DEFAULT_KDF,
      onProgress: (p) => progress.push(p),
    });
  });

  it('when derived, then loginSecret and keySecret are the HMAC-SHA256 split of Argon2id over the DESIGN §3 salt', async () => {
    const { createHash } = await import('node:crypto');
    const salt = createHash('sha256')
      .update('medseal/v1/salt')
      .update('ada@example.org')
      .update(Buffer.from(saltSeed, 'base64url'))
      .digest()
      .subarray(0, 16);
    const master = await argon2id({
      password: 'correct horse battery staple',
      salt,
      memorySize: 65536,
      iterations: 3,
      parallelism: 1,
      hashLength: 32,
      outputType: 'binary',
    });
    const login = createHmac('sha256', master).update('medseal/v1/login-password').digest();
    const key = createHmac('sha256', master).update('medseal/v1/private-key').digest();
    expect(first.loginSecret).toBe(login.toString('base64url'));
    expect(Buffer.from(first.keySecret).equals(key)).toBe(true);
    expect(first.loginSecret).toMatch(/^[A-Za-z0-9_-]{43}$/);
    expect(first.keySecret).toHaveLength(32);
  });

  it('when derived, then progress went argon2id 0 → argon2id 1 → hmac 1', () => {
    expect(progress).toEqual([
      { stage: 'argon2id', fraction: 0 },
      { stage: 'argon2id', fraction: 1 },
      { stage: 'hmac', fraction: 1 },
    ]);
  });

  it('when the email differs only in case and spaces, then the secrets are the same', async () => {
    const again = await deriveSecrets({
      password: 'correct horse battery staple',
      email: ' ada@EXAMPLE.org ',
      saltSeed,
      kdf: MIN_KDF,
    });
    expect(again.loginSecret).toBe(first.loginSecret);
  });

  it('when the KDF is below the floor, then kdf-too-weak before any work', async () => {
    for (const kdf of [
      { ...MIN_KDF, memoryKiB: 65535 },
      { ...MIN_KDF, iterations: 2 },
      { ...MIN_KDF, parallelism: 0 },
    ]) {
      expect(await codeOf(deriveSecrets({ password: 'pw', email: 'a@b.c', saltSeed, kdf }))).toBe(
        'kdf-too-weak',
      );
    }
  });

  it('when the KDF has an unknown algorithm, a bad shape, or is absurdly large, then invalid-kdf', () => {
    expect(() => checkKdf({ ...MIN_KDF, algorithm: 'scrypt' })).toThrow(
      expect.objectContaining({ code: 'invalid-kdf' }),
    );
    expect(() => checkKdf({ ...MIN_KDF, memoryKiB: '65536' })).toThrow(
      expect.objectContaining({ code: 'invalid-kdf' }),
    );
    expect(() => checkKdf(null)).toThrow(expect.objectContaining({ code: 'invalid-kdf' }));
    expect(() => checkKdf({ ...MIN_KDF, memoryKiB: 8 * 1024 * 1024 })).toThrow(
      expect.objectContaining({ code: 'invalid-kdf' }),
    );
  });

  it('when the saltSeed, password or email is malformed, then invalid-argument', async () => {
    expect(
      await codeOf(
        deriveSecrets({ password: 'pw', email: 'a@b.c', saltSeed: 'short', kdf: MIN_KDF }),
      ),
    ).toBe('invalid-argument');
    expect(
      await codeOf(deriveSecrets({ password: '', email: 'a@b.c', saltSeed, kdf: MIN_KDF })),
    ).toBe('invalid-argument');
    expect(
      await codeOf(deriveSecrets({ password: 'pw', email: 'nope', saltSeed, kdf: MIN_KDF })),
    ).toBe('invalid-argument');
  });

  it('createSaltSeed makes 32 random bytes as 43 base64url characters', () => {
    const a = createSaltSeed();
    expect(a).toMatch(/^[A-Za-z0-9_-]{43}$/);
    expect(Buffer.from(a, 'base64url')).toHaveLength(32);
    expect(createSaltSeed()).not.toBe(a);
  });
});
