// Attack: the server quietly adds a reader to a record's recipient list (after splicing a PKESK
// it got from somewhere) and backs it with a grant it forged, signed by someone other than the
// owner or author.
import { createGrant, openRecord, sealRecord, type UserId } from '../../src';
import { makeUser, sampleEnvelope } from '../helpers';

describe('attack: forged grant / recipient list padding', () => {
  it('when the server lists an extra reader with a grant not signed by owner or author, then context-mismatch naming the reader', async () => {
    const [owner, author, spy, serverKey] = await Promise.all([
      makeUser('Owner'),
      makeUser('Author'),
      makeUser('Spy'),
      makeUser('Server'),
    ]);
    const { message, envelope } = await sealRecord({
      envelope: sampleEnvelope,
      authorKey: author.privateKey,
      recipientKeys: [owner.publicKey, author.publicKey],
    });
    // forged: claims to be granted by the owner, but signed with a key the server controls
    const forged = await createGrant({
      grant: {
        recordId: envelope.recordId,
        granteeUserId: 'u-spy' as UserId,
        granteeFingerprint: spy.fingerprint,
        grantedBy: envelope.ownerId,
      },
      signerKey: serverKey.privateKey,
    });
    const result = await openRecord({
      message,
      myKey: owner.privateKey,
      expect: {
        ...sampleEnvelope,
        authorPublicKey: author.publicKey,
        authorFingerprint: author.fingerprint,
        ownerFingerprint: owner.fingerprint,
        recipients: [...envelope.recipients, spy.fingerprint],
        grants: [{ signedGrant: forged.signedGrant, signerPublicKey: serverKey.publicKey }],
      },
    });
    expect(result).toEqual({
      status: 'context-mismatch',
      mismatches: ['recipients'],
      unexpectedRecipients: [spy.fingerprint],
      missingRecipients: [],
    });
  });
});
