// Attack: a malicious server hands out weak KDF parameters to make stolen login secrets cheap to
// brute-force.
import { deriveSecrets, createSaltSeed, MIN_KDF } from '../../src';
import { createCryptoWorkerApi } from '../../src/worker';

describe('attack: KDF parameters below the floor', () => {
  const weak = [
    { algorithm: 'argon2id', memoryKiB: 1024, iterations: 1, parallelism: 1 },
    { ...MIN_KDF, memoryKiB: MIN_KDF.memoryKiB - 1 },
    { ...MIN_KDF, iterations: MIN_KDF.iterations - 1 },
  ] as const;

  it.each(weak)(
    'when the server offers %o, then deriveSecrets refuses with kdf-too-weak',
    async (kdf) => {
      await expect(
        deriveSecrets({
          password: 'pw',
          email: 'a@example.org',
          saltSeed: createSaltSeed(),
          kdf: { ...kdf },
        }),
      ).rejects.toMatchObject({ code: 'kdf-too-weak' });
    },
  );

  it('when the server offers another algorithm, then invalid-kdf; the worker face refuses the same way', async () => {
    const kdf = {
      algorithm: 'pbkdf2',
      memoryKiB: 65536,
      iterations: 100000,
      parallelism: 1,
    } as never;
    await expect(
      deriveSecrets({ password: 'pw', email: 'a@example.org', saltSeed: createSaltSeed(), kdf }),
    ).rejects.toMatchObject({ code: 'invalid-kdf' });
    const api = createCryptoWorkerApi();
    await expect(
      api.deriveSecrets({
        password: 'pw',
        email: 'a@example.org',
        saltSeed: createSaltSeed(),
        kdf: { ...weak[0] },
      }),
    ).rejects.toMatchObject({ code: 'kdf-too-weak' });
  });
});
