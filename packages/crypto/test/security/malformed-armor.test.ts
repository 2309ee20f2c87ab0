// Attack: malformed or confusing armor (wrong type, bad base64, wrong checksum, text around it,
// truncated) meant to crash the parser or slip past the checks.
import { checkEncryptedTo, inspectMessage, openRecord, sealRecord } from '../../src';
import { makeUser, sampleEnvelope } from '../helpers';

describe('attack: malformed armor', () => {
  it('when armor is mangled in many ways, then the server gets not-armored / not-a-message and the client a bad-signature status', async () => {
    const [author, reader] = await Promise.all([makeUser('Author'), makeUser('Reader')]);
    const { message, envelope } = await sealRecord({
      envelope: sampleEnvelope,
      authorKey: author.privateKey,
      recipientKeys: [reader.publicKey],
    });
    const lines = message.trimEnd().split('\n');
    const checksumIndex = lines.findIndex((l) => /^=[A-Za-z0-9+/]{4}$/.test(l));
    const cases: [string, string, string][] = [
      ['no armor', 'not-armored', 'plain text'],
      ['empty', 'not-armored', ''],
      ['missing END', 'not-armored', lines.slice(0, -1).join('\n')],
      [
        'mismatched END type',
        'not-armored',
        [...lines.slice(0, -1), '-----END PGP SIGNATURE-----'].join('\n'),
      ],
      ['text before the armor', 'not-armored', 'Hello!\n' + message],
      ['bad base64 character', 'not-armored', message.replace(/\n([A-Za-z0-9+/])/, '\n*')],
      [
        'wrong checksum',
        'not-armored',
        checksumIndex >= 0
          ? lines
              .map((l, i) => (i === checksumIndex ? (l === '=AAAA' ? '=AAAB' : '=AAAA') : l))
              .join('\n')
          : 'x',
      ],
      ['public key block type', 'not-a-message', reader.publicKey],
      [
        'truncated body',
        'not-a-message',
        [...lines.slice(0, 3), lines[lines.length - 1]].join('\n'),
      ],
      ['header-only', 'not-a-message', '-----BEGIN PGP MESSAGE-----\n\n-----END PGP MESSAGE-----'],
    ];
    for (const [label, code, input] of cases) {
      const error = await checkEncryptedTo(input, [reader.publicKey], { maxBytes: 1 << 20 }).catch(
        (e: unknown) => e,
      );
      expect([label, (error as { code?: string }).code]).toEqual([label, code]);
      await expect(inspectMessage(input, { maxBytes: 1 << 20 })).rejects.toBeDefined();
      const opened = await openRecord({
        message: input,
        myKey: reader.privateKey,
        expect: {
          ...sampleEnvelope,
          authorPublicKey: author.publicKey,
          recipients: envelope.recipients,
        },
      });
      expect([label, opened.status]).toEqual([label, 'bad-signature']);
    }
  });
});
