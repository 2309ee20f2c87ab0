import * as openpgp from 'openpgp';
import { checkLockedPrivateKey, exportPrivateKey, lockPrivateKey, unlockPrivateKey } from '../src';
import { codeOf, fixture, makeUser } from './helpers';

function s2kOf(armored: string) {
  return openpgp
    .readPrivateKey({ armoredKey: armored })
    .then(
      (k) =>
        (k.keyPacket as unknown as { s2k: { type: string; c: number; algorithm: number } }).s2k,
    );
}

describe('lockPrivateKey / unlockPrivateKey', () => {
  const secret = new Uint8Array(32).map((_, i) => i);

  it('when locked with a secret, then the same secret unlocks it to the same key', async () => {
    const me = await makeUser('Locker');
    const locked = await lockPrivateKey({ privateKey: me.privateKey, secret });
    expect(locked).toContain('-----BEGIN PGP PRIVATE KEY BLOCK-----');
    const unlocked = await unlockPrivateKey({ lockedKey: locked, secret });
    expect(unlocked.fingerprint).toBe(me.fingerprint);
    expect(unlocked.key.isDecrypted()).toBe(true);
  });

  it('when locked, then the S2K is iterated with the lowest count (the secret is already stretched)', async () => {
    const me = await makeUser('Locker');
    const s2k = await s2kOf(await lockPrivateKey({ privateKey: me.privateKey, secret }));
    expect(s2k.type).toBe('iterated');
    expect(s2k.c).toBe(0);
  });

  it('when the secret is wrong, then wrong-key-secret; when too short, then invalid-argument', async () => {
    const me = await makeUser('Locker');
    const locked = await lockPrivateKey({ privateKey: me.privateKey, secret });
    expect(await codeOf(unlockPrivateKey({ lockedKey: locked, secret: new Uint8Array(32) }))).toBe(
      'wrong-key-secret',
    );
    expect(await codeOf(unlockPrivateKey({ lockedKey: locked, secret: new Uint8Array(8) }))).toBe(
      'invalid-argument',
    );
    expect(
      await codeOf(lockPrivateKey({ privateKey: me.privateKey, secret: new Uint8Array(4) })),
    ).toBe('invalid-argument');
  });

  it('when the stored key is a public key, garbage, or unprotected, then not-private-key / invalid-key', async () => {
    expect(await codeOf(unlockPrivateKey({ lockedKey: fixture('good.pub.asc'), secret }))).toBe(
      'not-private-key',
    );
    expect(await codeOf(unlockPrivateKey({ lockedKey: 'garbage', secret }))).toBe('invalid-key');
    expect(await codeOf(unlockPrivateKey({ lockedKey: fixture('good.sec.asc'), secret }))).toBe(
      'invalid-key',
    );
  });
});

describe('exportPrivateKey', () => {
  it('when exported, then it is protected by the typed passphrase with the strongest iterated S2K', async () => {
    const me = await makeUser('Exporter');
    const exported = await exportPrivateKey({
      privateKey: me.privateKey,
      passphrase: 'a passphrase I typed',
    });
    const s2k = await s2kOf(exported);
    expect(s2k.type).toBe('iterated');
    expect(s2k.c).toBe(255);
    const key = await openpgp.decryptKey({
      privateKey: await openpgp.readPrivateKey({ armoredKey: exported }),
      passphrase: 'a passphrase I typed',
    });
    expect(key.getFingerprint()).toBe(me.fingerprint);
  });

  it('when the passphrase is shorter than 8 characters, then invalid-argument', async () => {
    const me = await makeUser('Exporter');
    expect(await codeOf(exportPrivateKey({ privateKey: me.privateKey, passphrase: 'short' }))).toBe(
      'invalid-argument',
    );
  });
});

describe('checkLockedPrivateKey', () => {
  it('when the private key is locked, then it passes; unprotected, then key-not-locked; a public key, then not-private-key', async () => {
    const me = await makeUser('Sender');
    await expect(
      checkLockedPrivateKey(
        await lockPrivateKey({ privateKey: me.privateKey, secret: new Uint8Array(32) }),
      ),
    ).resolves.toBeUndefined();
    expect(await codeOf(checkLockedPrivateKey(me.privateKey.key.armor()))).toBe('key-not-locked');
    expect(await codeOf(checkLockedPrivateKey(me.publicKey))).toBe('not-private-key');
    expect(await codeOf(checkLockedPrivateKey('not a key'))).toBe('invalid-key');
  });

  it('when only the encryption subkey is left unprotected, then key-not-locked', async () => {
    const me = await makeUser('Half');
    const locked = await openpgp.readPrivateKey({
      armoredKey: await lockPrivateKey({ privateKey: me.privateKey, secret: new Uint8Array(32) }),
    });
    const clear = me.privateKey.key.subkeys[0]?.keyPacket;
    if (!clear) throw new Error('no subkey');
    const packets = locked.toPacketList();
    const at = packets.findIndex((p) => p instanceof openpgp.SecretSubkeyPacket);
    packets[at] = clear;
    expect(await codeOf(checkLockedPrivateKey(new openpgp.PrivateKey(packets).armor()))).toBe(
      'key-not-locked',
    );
  });
});
