// Attack (or a careless client): clear text carried in the armor of an otherwise well-formed
// encrypted message — an armor header such as "Comment: HIV positive", or words spaced out inside
// the base64 lines, which the decoder would skip. The server stores the armored text as sent, so
// the check must refuse it.
import { checkEncryptedTo, sealRecord } from '../../src';
import { codeOf, makeUser, sampleEnvelope } from '../helpers';

describe('attack: clear text in the armor', () => {
  it('when a sealed record carries an armor header, then the server check refuses it as unencrypted-data', async () => {
    const [author, reader] = await Promise.all([makeUser('Author'), makeUser('Reader')]);
    const { message } = await sealRecord({
      envelope: sampleEnvelope,
      authorKey: author.privateKey,
      recipientKeys: [reader.publicKey],
    });
    await expect(
      checkEncryptedTo(message, [reader.publicKey], { maxBytes: 1 << 20 }),
    ).resolves.toBeDefined();
    const withHeader = message.replace(
      '-----BEGIN PGP MESSAGE-----\n',
      '-----BEGIN PGP MESSAGE-----\nComment: diagnosis HIV positive\n',
    );
    expect(
      await codeOf(checkEncryptedTo(withHeader, [reader.publicKey], { maxBytes: 1 << 20 })),
    ).toBe('unencrypted-data');
  });

  it('when spaces are put inside the base64 lines, then the server check refuses it as not-armored', async () => {
    const [author, reader] = await Promise.all([makeUser('Author'), makeUser('Reader')]);
    const { message } = await sealRecord({
      envelope: sampleEnvelope,
      authorKey: author.privateKey,
      recipientKeys: [reader.publicKey],
    });
    const lines = message.split('\n');
    // A 4-character group moved apart by spaces still decodes to the same bytes under atob.
    const spaced = lines
      .map((l, i) => (i === 2 ? `${l.slice(0, 4)}    ${l.slice(4)}` : l))
      .join('\n');
    expect(await codeOf(checkEncryptedTo(spaced, [reader.publicKey], { maxBytes: 1 << 20 }))).toBe(
      'not-armored',
    );
  });
});
