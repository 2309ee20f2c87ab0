import {
  buildOpenApiDocument,
  endpoints,
  registerRequestSchema,
  updateRecordRequestSchema,
} from '../src/index';

describe('the OpenAPI document', () => {
  it('when generated, then every endpoint of the table is in it under /api with its method', () => {
    const doc = buildOpenApiDocument({ version: 'test' });
    const paths = doc.paths ?? {};
    for (const e of Object.values(endpoints)) {
      const path = `/api${e.path.replace(/:([A-Za-z]+)/g, '{$1}')}`;
      expect(paths[path]?.[e.method]).toBeDefined();
    }
    expect(paths['/api/health']?.get).toBeDefined();
  });
});

describe('request schemas', () => {
  it('when an update carries unknown fields such as ownerId or version, then it is refused', () => {
    const base = {
      baseVersion: 1,
      recipients: [{ userId: 'a'.repeat(22), fingerprint: 'b'.repeat(40) }],
      message: '-----BEGIN PGP MESSAGE-----\n',
    };
    expect(updateRecordRequestSchema.safeParse(base).success).toBe(true);
    expect(updateRecordRequestSchema.safeParse({ ...base, ownerId: 'a'.repeat(22) }).success).toBe(
      false,
    );
    expect(updateRecordRequestSchema.safeParse({ ...base, version: 9 }).success).toBe(false);
  });

  // The KDF floor itself is @medseal/crypto's checkKdf, applied by the server (kdf-too-weak,
  // apps/server/test/security/kdf-floor.test.ts); the schema checks the shape.
  it('when registration names a KDF other than argon2id, then it is refused', () => {
    const result = registerRequestSchema.safeParse({
      email: 'a@example.org',
      name: 'A',
      role: 'patient',
      publicKey: '-----BEGIN PGP PUBLIC KEY BLOCK-----',
      loginSecret: 'a'.repeat(43),
      saltSeed: 'a'.repeat(43),
      kdf: { algorithm: 'scrypt', memoryKiB: 65536, iterations: 3, parallelism: 1 },
      encryptedPrivateKey: '-----BEGIN PGP PRIVATE KEY BLOCK-----',
      recoveryEncryptedPrivateKey: '-----BEGIN PGP PRIVATE KEY BLOCK-----',
    });
    expect(result.success).toBe(false);
  });
});
