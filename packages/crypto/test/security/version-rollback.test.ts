// Attack: the server serves an older version of a record as the newest.
import { openRecord, sealRecord } from '../../src';
import { makeUser, sampleEnvelope } from '../helpers';

describe('attack: version rollback', () => {
  it('when version 4 is served (honestly labelled) after the client saw version 5, then version-rollback', async () => {
    const [author, reader] = await Promise.all([makeUser('Author'), makeUser('Reader')]);
    const v4 = await sealRecord({
      envelope: { ...sampleEnvelope, version: 4 },
      authorKey: author.privateKey,
      recipientKeys: [reader.publicKey],
    });
    const result = await openRecord({
      message: v4.message,
      myKey: reader.privateKey,
      expect: {
        ...sampleEnvelope,
        version: 4,
        minVersion: 5,
        authorPublicKey: author.publicKey,
        recipients: v4.envelope.recipients,
      },
    });
    expect(result).toEqual({ status: 'context-mismatch', mismatches: ['version-rollback'] });
  });

  it('when version 4 is served labelled as version 5, then version mismatch', async () => {
    const [author, reader] = await Promise.all([makeUser('Author'), makeUser('Reader')]);
    const v4 = await sealRecord({
      envelope: { ...sampleEnvelope, version: 4 },
      authorKey: author.privateKey,
      recipientKeys: [reader.publicKey],
    });
    const result = await openRecord({
      message: v4.message,
      myKey: reader.privateKey,
      expect: {
        ...sampleEnvelope,
        version: 5,
        minVersion: 5,
        authorPublicKey: author.publicKey,
        recipients: v4.envelope.recipients,
      },
    });
    expect(result).toEqual({
      status: 'context-mismatch',
      mismatches: ['version', 'version-rollback'],
    });
  });
});
