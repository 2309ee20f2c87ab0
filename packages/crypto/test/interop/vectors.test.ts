// Stored interop vectors (test/fixtures/*-to-good.asc): messages GnuPG 2.2, sqop 0.27 and RNP 0.16
// made for the fixture key `good`, signed by it. Runs without the tools installed.
import { checkEncryptedTo, openFile } from '../../src';
import { dearmor } from '../../src/inspect/armor';
import { fixture, goodKey } from '../helpers';

describe('interop vectors made by other tools', () => {
  it.each([
    ['gpg-to-good.asc', 'hello from gpg'],
    ['sqop-to-good.asc', 'hello from sqop'],
    ['rnp-to-good.asc', 'hello from rnp'],
  ])(
    'when %s is opened with the good key, then it is verified and reads "%s"; the server check accepts it',
    async (name, text) => {
      const armored = fixture(name);
      await expect(
        checkEncryptedTo(armored, [fixture('good.pub.asc')], { maxBytes: 1 << 20 }),
      ).resolves.toBeDefined();
      const decoded = dearmor(armored);
      if (!decoded.ok) throw new Error(decoded.detail);
      const result = await openFile({
        message: decoded.bytes,
        myKey: await goodKey(),
        authorPublicKey: fixture('good.pub.asc'),
      });
      expect(result.status).toBe('verified');
      if (result.status === 'verified') expect(new TextDecoder().decode(result.data)).toBe(text);
    },
  );
});
