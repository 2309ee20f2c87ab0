import * as openpgp from 'openpgp';
import { openSelfBlob, sealSelfBlob } from '../src';
import { codeOf, makeUser } from './helpers';

describe('sealSelfBlob / openSelfBlob', () => {
  let me: Awaited<ReturnType<typeof makeUser>>;
  let other: Awaited<ReturnType<typeof makeUser>>;
  beforeAll(async () => {
    [me, other] = await Promise.all([makeUser('Me'), makeUser('Other')]);
  });
  const contacts = { pinned: [{ userId: 'u-1', fingerprint: 'ab'.repeat(20), verified: true }] };

  it('when sealed and opened by the same key with the same purpose, then verified with the data', async () => {
    const message = await sealSelfBlob({
      data: contacts,
      purpose: 'contacts/v1',
      key: me.privateKey,
    });
    const result = await openSelfBlob({ message, purpose: 'contacts/v1', key: me.privateKey });
    expect(result).toMatchObject({ status: 'verified', data: contacts });
  });

  it('when opened for another purpose, then context-mismatch', async () => {
    const message = await sealSelfBlob({
      data: contacts,
      purpose: 'contacts/v1',
      key: me.privateKey,
    });
    expect(await openSelfBlob({ message, purpose: 'settings/v1', key: me.privateKey })).toEqual({
      status: 'context-mismatch',
      mismatches: ['purpose'],
    });
  });

  it('when opened by someone else, then not-for-me', async () => {
    const message = await sealSelfBlob({
      data: contacts,
      purpose: 'contacts/v1',
      key: me.privateKey,
    });
    expect(await openSelfBlob({ message, purpose: 'contacts/v1', key: other.privateKey })).toEqual({
      status: 'not-for-me',
    });
  });

  it('when the server writes a blob to my key signed by another key, then bad-signature', async () => {
    const forged = await openpgp.encrypt({
      message: await openpgp.createMessage({ binary: new TextEncoder().encode('{"v":1}') }),
      encryptionKeys: me.privateKey.key.toPublic(),
      signingKeys: other.privateKey.key,
      config: { aeadProtect: false },
    });
    expect(
      await openSelfBlob({ message: forged, purpose: 'contacts/v1', key: me.privateKey }),
    ).toEqual({ status: 'bad-signature', reason: 'signed-by-another-key' });
  });

  it('when my own signed blob has a newer format version, then unsupported-format; when it is not JSON, then context-mismatch format', async () => {
    const sign = async (text: string) =>
      openpgp.encrypt({
        message: await openpgp.createMessage({ binary: new TextEncoder().encode(text + '\n') }),
        encryptionKeys: me.privateKey.key.toPublic(),
        signingKeys: me.privateKey.key,
        config: { aeadProtect: false },
      });
    expect(
      await codeOf(
        openSelfBlob({
          message: await sign('{"v":2,"purpose":"contacts/v1"}'),
          purpose: 'contacts/v1',
          key: me.privateKey,
        }),
      ),
    ).toBe('unsupported-format');
    expect(
      await openSelfBlob({
        message: await sign('not json'),
        purpose: 'contacts/v1',
        key: me.privateKey,
      }),
    ).toEqual({ status: 'context-mismatch', mismatches: ['format'] });
  });

  it('when the purpose is malformed, then invalid-argument', async () => {
    expect(
      await codeOf(sealSelfBlob({ data: 1, purpose: 'Bad Purpose!', key: me.privateKey })),
    ).toBe('invalid-argument');
  });
});
