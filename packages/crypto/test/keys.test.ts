import { fingerprintOf, generateUserKey, readPublicKey, CryptoError } from '../src';
import { codeOf, fixture } from './helpers';

describe('generateUserKey', () => {
  it('when a key is made, then it is a v4 Ed25519 key with one cv25519 encryption subkey and the user ID "name <email>"', async () => {
    const k = await generateUserKey({ name: 'Ada Lovelace', email: 'ada@example.org' });
    const info = await readPublicKey(k.publicKey);
    expect(info.fingerprint).toBe(k.fingerprint);
    expect(info.fingerprint).toMatch(/^[0-9a-f]{40}$/);
    expect(info.keyVersion).toBe(4);
    expect(info.userIds).toEqual(['Ada Lovelace <ada@example.org>']);
    expect(info.encryptionKeyIds).toHaveLength(1);
    expect(info.encryptionKeyIds[0]).toMatch(/^[0-9a-f]{16}$/);
    expect(k.publicKey).not.toContain('PRIVATE');
    expect(k.privateKey.fingerprint).toBe(k.fingerprint);
    expect(k.privateKey.key.getAlgorithmInfo()).toEqual({
      algorithm: 'eddsaLegacy',
      curve: 'ed25519Legacy',
    });
    expect(k.privateKey.key.subkeys[0]?.getAlgorithmInfo()).toEqual({
      algorithm: 'ecdh',
      curve: 'curve25519Legacy',
    });
  });

  it('when the email is not an address, then invalid-argument', async () => {
    expect(await codeOf(generateUserKey({ name: 'x', email: 'nope' }))).toBe('invalid-argument');
  });
});

describe('readPublicKey', () => {
  it('when the key is a good v4 key, then it returns fingerprint, created, user IDs and normalised armor', async () => {
    const info = await readPublicKey(fixture('good.pub.asc'));
    expect(info.userIds).toEqual(['Good <good@fixtures.medseal.test>']);
    expect(info.created).toBeInstanceOf(Date);
    expect(info.armored).toContain('-----BEGIN PGP PUBLIC KEY BLOCK-----');
    expect(await fingerprintOf(info.armored)).toBe(info.fingerprint);
  });

  it('when the key is RSA 3072, then it is accepted', async () => {
    const info = await readPublicKey(fixture('rsa3072.pub.asc'));
    expect(info.encryptionKeyIds.length).toBeGreaterThan(0);
  });

  it.each([
    ['garbage text', 'invalid-key', 'hello'],
    ['an armored message', 'invalid-key', fixture('sed-to-good.asc')],
    ['a private key', 'not-public-key', fixture('good.sec.asc')],
    ['an expired key', 'key-expired', fixture('expired.pub.asc')],
    ['a revoked key', 'key-revoked', fixture('revoked.pub.asc')],
    ['a key with only a signing subkey', 'no-encryption-subkey', fixture('sign-only.pub.asc')],
    ['a v6 key', 'unsupported-key-version', fixture('v6.pub.asc')],
    ['an RSA 2048 key', 'weak-key', fixture('rsa2048.pub.asc')],
    ['a secp256k1 key (made by gpg)', 'weak-key', fixture('secp256k1.pub.asc')],
  ])('when given %s, then %s', async (_label, code, input) => {
    const error = await readPublicKey(input).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(CryptoError);
    expect((error as CryptoError).code).toBe(code);
  });

  it('when a key is checked at a time before it expired, then it is accepted', async () => {
    const info = await readPublicKey(fixture('expired.pub.asc'), {
      now: new Date('2020-01-01T12:00:00Z'),
    });
    expect(info.encryptionKeyIds).toHaveLength(1);
  });
});

describe('fingerprintOf', () => {
  it('when given a private key, then not-public-key; when given garbage, then invalid-key', async () => {
    expect(await codeOf(fingerprintOf(fixture('good.sec.asc')))).toBe('not-public-key');
    expect(
      await codeOf(
        fingerprintOf(
          '-----BEGIN PGP PUBLIC KEY BLOCK-----\n\nAAAA\n-----END PGP PUBLIC KEY BLOCK-----',
        ),
      ),
    ).toBe('invalid-key');
  });
});
