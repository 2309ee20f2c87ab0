// Attack: a record signed by someone other than its declared author (another user, or the author
// plus an extra signer).
import * as openpgp from 'openpgp';
import { openRecord, sealRecord } from '../../src';
import { canonicalJson } from '../../src/encoding';
import { pad } from '../../src/padding';
import { makeUser, sampleEnvelope } from '../helpers';

describe('attack: record signed by someone other than the author', () => {
  it('when another user signs a record claiming the author, then unknown-author-key', async () => {
    const [author, reader, impostor] = await Promise.all([
      makeUser('Author'),
      makeUser('Reader'),
      makeUser('Impostor'),
    ]);
    const forged = await sealRecord({
      envelope: sampleEnvelope,
      authorKey: impostor.privateKey,
      recipientKeys: [reader.publicKey],
    });
    const result = await openRecord({
      message: forged.message,
      myKey: reader.privateKey,
      expect: {
        ...sampleEnvelope,
        authorPublicKey: author.publicKey,
        authorFingerprint: author.fingerprint,
        recipients: forged.envelope.recipients,
      },
    });
    expect(result).toEqual({ status: 'unknown-author-key', reason: 'signed-by-another-key' });
  });

  it('when the record carries the author signature plus a second one, then bad-signature (unexpected-signatures)', async () => {
    const [author, reader, extra] = await Promise.all([
      makeUser('Author'),
      makeUser('Reader'),
      makeUser('Extra'),
    ]);
    const envelope = { v: 1, ...sampleEnvelope, recipients: [reader.fingerprint] };
    const message = await openpgp.encrypt({
      message: await openpgp.createMessage({
        binary: pad(new TextEncoder().encode(canonicalJson(envelope))),
      }),
      encryptionKeys: reader.privateKey.key.toPublic(),
      signingKeys: [author.privateKey.key, extra.privateKey.key],
      config: { aeadProtect: false },
    });
    const result = await openRecord({
      message,
      myKey: reader.privateKey,
      expect: {
        ...sampleEnvelope,
        authorPublicKey: author.publicKey,
        recipients: [reader.fingerprint],
      },
    });
    expect(result).toEqual({ status: 'bad-signature', reason: 'unexpected-signatures' });
  });
});
