/**
 * @jest-environment @medseal/jest-presets/jsdom-environment
 */
// The web app's tests run real openpgp.js under jsdom; this proves the shared jsdom
// environment (webcrypto, same-realm TextEncoder, web streams) is enough for it.
import * as openpgp from 'openpgp';

describe('openpgp.js under the jsdom test environment', () => {
  it('when a key is made and a message signed and encrypted to it, then it decrypts and verifies', async () => {
    expect(typeof globalThis).toBe('object');
    expect('document' in globalThis).toBe(true);
    const { privateKey, publicKey } = await openpgp.generateKey({
      type: 'ecc',
      userIDs: [{ name: 'Jsdom', email: 'jsdom@example.org' }],
      format: 'object',
    });
    const encrypted = await openpgp.encrypt({
      message: await openpgp.createMessage({ text: 'hello from jsdom' }),
      encryptionKeys: publicKey,
      signingKeys: privateKey,
    });
    const { data, signatures } = await openpgp.decrypt({
      message: await openpgp.readMessage({ armoredMessage: encrypted }),
      decryptionKeys: privateKey,
      verificationKeys: publicKey,
      expectSigned: true,
    });
    expect(data).toBe('hello from jsdom');
    await expect(signatures[0]?.verified).resolves.toBe(true);
  });
});
