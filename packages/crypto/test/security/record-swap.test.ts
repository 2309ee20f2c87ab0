// Attack: the server serves a genuine record of one id in place of another record.
import { openRecord, sealRecord, type RecordId } from '../../src';
import { makeUser, sampleEnvelope } from '../helpers';

describe('attack: record swap between ids', () => {
  it('when record A is served as record B, then context-mismatch on recordId and no content', async () => {
    const [author, reader] = await Promise.all([makeUser('Author'), makeUser('Reader')]);
    const a = await sealRecord({
      envelope: { ...sampleEnvelope, recordId: 'rec-A' as RecordId },
      authorKey: author.privateKey,
      recipientKeys: [reader.publicKey],
    });
    const result = await openRecord({
      message: a.message,
      myKey: reader.privateKey,
      expect: {
        ...sampleEnvelope,
        recordId: 'rec-B' as RecordId,
        authorPublicKey: author.publicKey,
        recipients: a.envelope.recipients,
      },
    });
    expect(result).toEqual({ status: 'context-mismatch', mismatches: ['recordId'] });
    expect(result).not.toHaveProperty('envelope');
  });
});
