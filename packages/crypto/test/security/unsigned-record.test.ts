// Attack: anyone who knows the recipients' public keys (e.g. the server) writes a record without a signature.
import * as openpgp from 'openpgp';
import { openRecord } from '../../src';
import { canonicalJson } from '../../src/encoding';
import { pad } from '../../src/padding';
import { makeUser, sampleEnvelope } from '../helpers';

describe('attack: unsigned record', () => {
  it('when a well-formed envelope arrives encrypted but unsigned, then bad-signature (unsigned) and no content', async () => {
    const [author, reader] = await Promise.all([makeUser('Author'), makeUser('Reader')]);
    const envelope = { v: 1, ...sampleEnvelope, recipients: [reader.fingerprint] };
    const message = await openpgp.encrypt({
      message: await openpgp.createMessage({
        binary: pad(new TextEncoder().encode(canonicalJson(envelope))),
      }),
      encryptionKeys: reader.privateKey.key.toPublic(),
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
    expect(result).toEqual({ status: 'bad-signature', reason: 'unsigned' });
  });
});
