// Issue 10 class 9: the server hands out the user's locked key with a subkey taken away (or
// another added); the primary fingerprint is the registered one, the key is not.
import * as openpgp from 'openpgp';
import { checkOwnKey, unlockPrivateKey, lockPrivateKey } from '../../src';
import { codeOf, makeUser } from '../helpers';

describe('security: own key substitution', () => {
  it('when the unlocked key has the registered primary but not its encryption subkey, then own-key-mismatch; the registered key itself passes', async () => {
    const me = await makeUser('Me');
    const secret = new Uint8Array(32).fill(7);
    const locked = await lockPrivateKey({ privateKey: me.privateKey, secret });
    const parsed = await openpgp.readPrivateKey({ armoredKey: locked });
    parsed.subkeys = [];
    const stripped = parsed.armor();
    const unlocked = await unlockPrivateKey({ lockedKey: stripped, secret });
    expect(unlocked.fingerprint).toBe(me.fingerprint);
    expect(await codeOf(checkOwnKey(unlocked, me.publicKey))).toBe('own-key-mismatch');
    await expect(
      checkOwnKey(await unlockPrivateKey({ lockedKey: locked, secret }), me.publicKey),
    ).resolves.toBeUndefined();
  });

  it('when the unlocked key carries an extra subkey, then own-key-mismatch', async () => {
    const me = await makeUser('Me');
    const extended = await me.privateKey.key.addSubkey({ type: 'ecc', curve: 'curve25519Legacy' });
    const unlocked = await unlockPrivateKey({
      lockedKey: await lockPrivateKey({
        privateKey: { ...me.privateKey, key: extended },
        secret: new Uint8Array(32).fill(1),
      }),
      secret: new Uint8Array(32).fill(1),
    });
    expect(await codeOf(checkOwnKey(unlocked, me.publicKey))).toBe('own-key-mismatch');
  });
});
