// Attack: the server (or someone who controls it) swaps a recipient's public key for its own, so
// the record is encrypted to a key the attacker holds.
import { checkEncryptedTo, openRecord, sealRecord } from '../../src';
import { makeUser, sampleEnvelope } from '../helpers';

describe('attack: key substitution', () => {
  it('when a record is sealed to a substituted key, then checkEncryptedTo refuses it (recipient-mismatch)', async () => {
    const [author, doctor, attacker] = await Promise.all([
      makeUser('Author'),
      makeUser('Doctor'),
      makeUser('Attacker'),
    ]);
    // the client was handed the attacker's key as "the doctor's"
    const { message } = await sealRecord({
      envelope: sampleEnvelope,
      authorKey: author.privateKey,
      recipientKeys: [author.publicKey, attacker.publicKey],
    });
    // the server's check is against the doctor's real stored key
    await expect(
      checkEncryptedTo(message, [author.publicKey, doctor.publicKey], { maxBytes: 1 << 20 }),
    ).rejects.toMatchObject({
      code: 'recipient-mismatch',
      details: { missingRecipients: [doctor.fingerprint] },
    });
  });

  it('when the server substitutes the author key the reader verifies with, then the pinned fingerprint catches it (unknown-author-key)', async () => {
    const [author, reader, attacker] = await Promise.all([
      makeUser('Author'),
      makeUser('Reader'),
      makeUser('Attacker'),
    ]);
    const { message: forged, envelope } = await sealRecord({
      envelope: sampleEnvelope,
      authorKey: attacker.privateKey,
      recipientKeys: [reader.publicKey],
    });
    const result = await openRecord({
      message: forged,
      myKey: reader.privateKey,
      expect: {
        ...sampleEnvelope,
        authorPublicKey: attacker.publicKey,
        authorFingerprint: author.fingerprint,
        recipients: envelope.recipients,
      },
    });
    expect(result).toEqual({ status: 'unknown-author-key', reason: 'author-key-mismatch' });
  });
});
