import * as openpgp from 'openpgp';
import {
  checkRecipientList,
  createGrant,
  openRecord,
  type Fingerprint,
  type RecordId,
  type UserId,
} from '../src';
import { canonicalJson } from '../src/encoding';
import { pad } from '../src/padding';
import { codeOf, makeUser, sampleEnvelope } from './helpers';

type User = Awaited<ReturnType<typeof makeUser>>;
let author: User;
let reader: User;
beforeAll(async () => {
  [author, reader] = await Promise.all([makeUser('Author'), makeUser('Reader')]);
});

async function signedRecord(plaintext: Uint8Array): Promise<string> {
  return openpgp.encrypt({
    message: await openpgp.createMessage({ binary: plaintext }),
    encryptionKeys: reader.privateKey.key.toPublic(),
    signingKeys: author.privateKey.key,
    config: { aeadProtect: false },
  });
}

describe('record envelope format', () => {
  const expectation = () => ({
    ...sampleEnvelope,
    authorPublicKey: author.publicKey,
    recipients: [reader.fingerprint],
  });

  it('when an authentic envelope has a newer format version, then unsupported-format is thrown', async () => {
    const message = await signedRecord(
      pad(
        new TextEncoder().encode(
          canonicalJson({ ...sampleEnvelope, v: 2, recipients: [reader.fingerprint] }),
        ),
      ),
    );
    expect(
      await codeOf(openRecord({ message, myKey: reader.privateKey, expect: expectation() })),
    ).toBe('unsupported-format');
  });

  it('when the signed plaintext is not a well-formed envelope (extra field, no padding terminator, not JSON), then context-mismatch envelope', async () => {
    const cases = [
      pad(
        new TextEncoder().encode(
          canonicalJson({ ...sampleEnvelope, v: 1, recipients: [reader.fingerprint], extra: true }),
        ),
      ),
      new TextEncoder().encode(
        canonicalJson({ ...sampleEnvelope, v: 1, recipients: [reader.fingerprint] }),
      ),
      pad(new TextEncoder().encode('not json')),
      new Uint8Array([0xff, 0xfe, 0x0a]),
    ];
    for (const plaintext of cases) {
      const result = await openRecord({
        message: await signedRecord(plaintext),
        myKey: reader.privateKey,
        expect: expectation(),
      });
      expect(result).toEqual({ status: 'context-mismatch', mismatches: ['envelope'] });
    }
  });
});

describe('checkRecipientList', () => {
  const base = {
    recordId: 'rec-1' as RecordId,
    ownerId: 'u-owner' as UserId,
    authorId: 'u-author' as UserId,
  };

  it('when the server list equals the envelope list (any order), then ok; when one is missing, then it is reported', async () => {
    const fps = ['a'.repeat(40), 'b'.repeat(40)] as Fingerprint[];
    const ok = await checkRecipientList({
      ...base,
      authorFingerprint: author.fingerprint,
      envelopeRecipients: fps,
      serverRecipients: [...fps].reverse(),
    });
    expect(ok).toEqual({ ok: true, accepted: fps, grants: [], teamKeys: [] });
    const missing = await checkRecipientList({
      ...base,
      authorFingerprint: author.fingerprint,
      envelopeRecipients: fps,
      serverRecipients: [fps[0] as Fingerprint],
    });
    expect(missing).toEqual({ ok: false, unexpected: [], missing: [fps[1]] });
  });

  it('when an owner-signed grant is given but the owner fingerprint is not pinned, then the grantee is unexpected', async () => {
    const { signedGrant } = await createGrant({
      grant: {
        recordId: base.recordId,
        granteeUserId: 'u-x' as UserId,
        granteeFingerprint: reader.fingerprint,
        grantedBy: base.ownerId,
      },
      signerKey: author.privateKey,
    });
    const result = await checkRecipientList({
      ...base,
      authorFingerprint: 'f'.repeat(40) as Fingerprint,
      envelopeRecipients: [],
      serverRecipients: [reader.fingerprint],
      grants: [{ signedGrant, signerPublicKey: author.publicKey }],
    });
    expect(result).toEqual({ ok: false, unexpected: [reader.fingerprint], missing: [] });
  });

  it('when a server fingerprint is malformed, then invalid-fingerprint', async () => {
    expect(
      await codeOf(
        checkRecipientList({
          ...base,
          authorFingerprint: author.fingerprint,
          envelopeRecipients: [],
          serverRecipients: ['zz' as Fingerprint],
        }),
      ),
    ).toBe('invalid-fingerprint');
  });
});
