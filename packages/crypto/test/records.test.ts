import {
  createGrant,
  createSessionKey,
  openRecord,
  padmeLength,
  sealRecord,
  CryptoError,
  type Fingerprint,
  type RecordEnvelopeInput,
  type RecordExpectation,
  type RecordId,
  type UserId,
} from '../src';
import { dearmor } from '../src/inspect';
import { codeOf, fixture, makeUser } from './helpers';

type User = Awaited<ReturnType<typeof makeUser>>;
let patient: User;
let doctor: User;
let nurse: User;
let stranger: User;

beforeAll(async () => {
  [patient, doctor, nurse, stranger] = await Promise.all([
    makeUser('Patient'),
    makeUser('Doctor'),
    makeUser('Nurse'),
    makeUser('Stranger'),
  ]);
});

function binaryLength(armored: string): number {
  const result = dearmor(armored);
  if (!result.ok) throw new Error(result.detail);
  return result.bytes.length;
}

const input = (overrides: Partial<RecordEnvelopeInput> = {}): RecordEnvelopeInput => ({
  recordId: 'rec-42' as RecordId,
  version: 3,
  ownerId: 'u-patient' as UserId,
  authorId: 'u-doctor' as UserId,
  createdAt: '2026-11-27T10:00:00.000Z',
  content: { kind: 'note', title: 'Follow-up', body: 'BP 120/80', tags: ['cardio'] },
  ...overrides,
});

function expectation(
  recipients: Fingerprint[],
  overrides: Partial<RecordExpectation> = {},
): RecordExpectation {
  return {
    recordId: 'rec-42' as RecordId,
    version: 3,
    ownerId: 'u-patient' as UserId,
    authorId: 'u-doctor' as UserId,
    authorPublicKey: doctor.publicKey,
    authorFingerprint: doctor.fingerprint,
    recipients,
    ...overrides,
  };
}

describe('sealRecord / openRecord', () => {
  it('when the author seals to patient and self, then both open it as verified with the full envelope', async () => {
    const { message, envelope } = await sealRecord({
      envelope: input(),
      authorKey: doctor.privateKey,
      recipientKeys: [patient.publicKey, doctor.publicKey],
    });
    expect(message).toMatch(/^-----BEGIN PGP MESSAGE-----/);
    expect(envelope.recipients).toEqual([patient.fingerprint, doctor.fingerprint].sort());
    expect(envelope.v).toBe(1);
    for (const reader of [patient, doctor]) {
      const result = await openRecord({
        message,
        myKey: reader.privateKey,
        expect: expectation(envelope.recipients),
      });
      expect(result.status).toBe('verified');
      if (result.status === 'verified') {
        expect(result.envelope).toEqual(envelope);
        expect(result.signedAt).toBeInstanceOf(Date);
      }
    }
  });

  it('when the reader is not a recipient, then not-for-me', async () => {
    const { message, envelope } = await sealRecord({
      envelope: input(),
      authorKey: doctor.privateKey,
      recipientKeys: [patient.publicKey],
    });
    expect(
      await openRecord({
        message,
        myKey: stranger.privateKey,
        expect: expectation(envelope.recipients),
      }),
    ).toEqual({ status: 'not-for-me' });
  });

  it('when the expected author key is a different one than the signer, then unknown-author-key', async () => {
    const { message, envelope } = await sealRecord({
      envelope: input(),
      authorKey: doctor.privateKey,
      recipientKeys: [patient.publicKey],
    });
    const result = await openRecord({
      message,
      myKey: patient.privateKey,
      expect: expectation(envelope.recipients, {
        authorPublicKey: nurse.publicKey,
        authorFingerprint: nurse.fingerprint,
      }),
    });
    expect(result).toEqual({ status: 'unknown-author-key', reason: 'signed-by-another-key' });
  });

  it('when the author key offered does not have the pinned fingerprint, then unknown-author-key', async () => {
    const { message, envelope } = await sealRecord({
      envelope: input(),
      authorKey: doctor.privateKey,
      recipientKeys: [patient.publicKey],
    });
    const result = await openRecord({
      message,
      myKey: patient.privateKey,
      expect: expectation(envelope.recipients, { authorPublicKey: nurse.publicKey }),
    });
    expect(result).toEqual({ status: 'unknown-author-key', reason: 'author-key-mismatch' });
  });

  it.each([
    ['recordId', { recordId: 'rec-other' as RecordId }],
    ['version', { version: 4 }],
    ['ownerId', { ownerId: 'u-other' as UserId }],
    ['authorId', { authorId: 'u-other' as UserId }],
  ])(
    'when the server says a different %s, then context-mismatch naming it',
    async (field, override) => {
      const { message, envelope } = await sealRecord({
        envelope: input(),
        authorKey: doctor.privateKey,
        recipientKeys: [patient.publicKey],
      });
      const result = await openRecord({
        message,
        myKey: patient.privateKey,
        expect: expectation(envelope.recipients, override),
      });
      expect(result).toEqual({ status: 'context-mismatch', mismatches: [field] });
    },
  );

  it('when a summary is sealed beside the record under the same session key, then each opens as its part and neither passes as the other', async () => {
    const sessionKey = createSessionKey();
    const keys = [patient.publicKey, doctor.publicKey];
    const full = await sealRecord({
      envelope: input(),
      authorKey: doctor.privateKey,
      recipientKeys: keys,
      sessionKey,
    });
    const summary = await sealRecord({
      envelope: input({ part: 'summary', content: { title: 'Follow-up', kind: 'note' } }),
      authorKey: doctor.privateKey,
      recipientKeys: keys,
      sessionKey,
    });
    const x = expectation(full.envelope.recipients);
    expect(
      (
        await openRecord({
          message: summary.message,
          myKey: patient.privateKey,
          expect: { ...x, part: 'summary' },
        })
      ).status,
    ).toBe('verified');
    expect(
      (await openRecord({ message: full.message, myKey: patient.privateKey, expect: x })).status,
    ).toBe('verified');
    expect(
      await openRecord({ message: summary.message, myKey: patient.privateKey, expect: x }),
    ).toEqual({ status: 'context-mismatch', mismatches: ['part'] });
    expect(
      await openRecord({
        message: full.message,
        myKey: patient.privateKey,
        expect: { ...x, part: 'summary' },
      }),
    ).toEqual({ status: 'context-mismatch', mismatches: ['part'] });
  });

  it('when the server lists an extra recipient without a grant, then context-mismatch naming it', async () => {
    const { message, envelope } = await sealRecord({
      envelope: input(),
      authorKey: doctor.privateKey,
      recipientKeys: [patient.publicKey],
    });
    const result = await openRecord({
      message,
      myKey: patient.privateKey,
      expect: expectation([...envelope.recipients, nurse.fingerprint]),
    });
    expect(result).toMatchObject({
      status: 'context-mismatch',
      mismatches: ['recipients'],
      unexpectedRecipients: [nurse.fingerprint],
    });
  });

  it('when the extra recipient has a current grant signed by the owner or the author, then verified', async () => {
    const { message, envelope } = await sealRecord({
      envelope: input(),
      authorKey: doctor.privateKey,
      recipientKeys: [patient.publicKey, doctor.publicKey],
    });
    const byOwner = await createGrant({
      grant: {
        recordId: envelope.recordId,
        granteeUserId: 'u-nurse' as UserId,
        granteeFingerprint: nurse.fingerprint,
        grantedBy: envelope.ownerId,
      },
      signerKey: patient.privateKey,
    });
    const byAuthor = await createGrant({
      grant: {
        recordId: envelope.recordId,
        granteeUserId: 'u-stranger' as UserId,
        granteeFingerprint: stranger.fingerprint,
        grantedBy: envelope.authorId,
      },
      signerKey: doctor.privateKey,
    });
    const result = await openRecord({
      message,
      myKey: patient.privateKey,
      expect: expectation([...envelope.recipients, nurse.fingerprint, stranger.fingerprint], {
        ownerFingerprint: patient.fingerprint,
        grants: [
          { signedGrant: byOwner.signedGrant, signerPublicKey: patient.publicKey },
          { signedGrant: byAuthor.signedGrant, signerPublicKey: doctor.publicKey },
        ],
      }),
    });
    expect(result.status).toBe('verified');
  });

  it('when a grant is for another record, expired, or signed by someone else, then it does not count', async () => {
    const { message, envelope } = await sealRecord({
      envelope: input(),
      authorKey: doctor.privateKey,
      recipientKeys: [patient.publicKey],
    });
    const grants = [
      await createGrant({
        grant: {
          recordId: 'rec-other' as RecordId,
          granteeUserId: 'u-n' as UserId,
          granteeFingerprint: nurse.fingerprint,
          grantedBy: envelope.ownerId,
        },
        signerKey: patient.privateKey,
      }),
      await createGrant({
        grant: {
          recordId: envelope.recordId,
          granteeUserId: 'u-n' as UserId,
          granteeFingerprint: nurse.fingerprint,
          grantedBy: envelope.ownerId,
          at: new Date(Date.now() - 7200_000),
          expiresAt: new Date(Date.now() - 3600_000),
        },
        signerKey: patient.privateKey,
      }),
    ];
    const byStranger = await createGrant({
      grant: {
        recordId: envelope.recordId,
        granteeUserId: 'u-n' as UserId,
        granteeFingerprint: nurse.fingerprint,
        grantedBy: envelope.ownerId,
      },
      signerKey: stranger.privateKey,
    });
    const result = await openRecord({
      message,
      myKey: patient.privateKey,
      expect: expectation([...envelope.recipients, nurse.fingerprint], {
        ownerFingerprint: patient.fingerprint,
        grants: [
          ...grants.map((g) => ({
            signedGrant: g.signedGrant,
            signerPublicKey: patient.publicKey,
          })),
          { signedGrant: byStranger.signedGrant, signerPublicKey: stranger.publicKey },
        ],
      }),
    });
    expect(result).toMatchObject({ status: 'context-mismatch', mismatches: ['recipients'] });
  });

  it('when the author key has been revoked since, then bad-signature (author-key-not-valid)', async () => {
    const openpgp = await import('openpgp');
    const { message, envelope } = await sealRecord({
      envelope: input(),
      authorKey: doctor.privateKey,
      recipientKeys: [patient.publicKey],
    });
    const revoked = await openpgp.revokeKey({ key: doctor.privateKey.key, format: 'armored' });
    const result = await openRecord({
      message,
      myKey: patient.privateKey,
      expect: expectation(envelope.recipients, { authorPublicKey: revoked.publicKey }),
    });
    expect(result).toEqual({ status: 'bad-signature', reason: 'author-key-not-valid' });
  });

  it('when the message is not a PGP message at all, then bad-signature (malformed)', async () => {
    const result = await openRecord({
      message: 'hello',
      myKey: patient.privateKey,
      expect: expectation([patient.fingerprint]),
    });
    expect(result).toEqual({ status: 'bad-signature', reason: 'malformed' });
  });

  it('when the SED fixture is opened, then bad-signature (no-integrity)', async () => {
    const good = await import('../src').then((m) => m.readPublicKey(fixture('good.pub.asc')));
    const result = await openRecord({
      message: fixture('sed-to-good.asc'),
      myKey: patient.privateKey,
      expect: expectation([good.fingerprint]),
    });
    expect(result).toEqual({ status: 'bad-signature', reason: 'no-integrity' });
  });

  it("when two records of different small sizes are sealed, then their messages differ in length only by the signature's own variation (padding)", async () => {
    const a = await sealRecord({
      envelope: input({ content: { t: 'a' } }),
      authorKey: doctor.privateKey,
      recipientKeys: [patient.publicKey],
    });
    const b = await sealRecord({
      envelope: input({ content: { t: 'a much longer title with more words in it' } }),
      authorKey: doctor.privateKey,
      recipientKeys: [patient.publicKey],
    });
    // The signature's two MPIs (r, s) drop leading zero bytes now and then, whatever the content
    // (seen: 1 byte, which armor turned into 4 characters). Without padding the titles alone
    // differ by 40 bytes.
    expect(Math.abs(binaryLength(a.message) - binaryLength(b.message))).toBeLessThanOrEqual(2);
  });

  it('when a session key is passed, then the record uses it', async () => {
    const sessionKey = createSessionKey();
    const { message } = await sealRecord({
      envelope: input(),
      authorKey: doctor.privateKey,
      recipientKeys: [patient.publicKey],
      sessionKey,
    });
    const openpgp = await import('openpgp');
    const [sk] = await openpgp.decryptSessionKeys({
      message: await openpgp.readMessage({ armoredMessage: message }),
      decryptionKeys: patient.privateKey.key,
    });
    expect(Buffer.from(sk?.data ?? []).equals(Buffer.from(sessionKey.data))).toBe(true);
  });

  it('when the envelope or recipients are invalid, then invalid-argument or the key code', async () => {
    const seal = (e: Partial<RecordEnvelopeInput>, keys: string[] = [patient.publicKey]) =>
      sealRecord({ envelope: input(e), authorKey: doctor.privateKey, recipientKeys: keys });
    expect(await codeOf(seal({ version: 0 }))).toBe('invalid-argument');
    expect(await codeOf(seal({ createdAt: 'yesterday' }))).toBe('invalid-argument');
    expect(await codeOf(seal({ content: [] as never }))).toBe('invalid-argument');
    expect(await codeOf(seal({ content: { n: Number.NaN } }))).toBe('invalid-argument');
    expect(await codeOf(seal({}, []))).toBe('invalid-argument');
    expect(await codeOf(seal({}, [patient.publicKey, patient.publicKey]))).toBe('invalid-argument');
    expect(await codeOf(seal({}, [fixture('revoked.pub.asc')]))).toBe('key-revoked');
  });

  it('Padmé lengths: at least 512, at most ~12% overhead, monotonic', () => {
    expect(padmeLength(1)).toBe(512);
    let last = 0;
    for (let n = 1; n < 200_000; n += 997) {
      const p = padmeLength(n);
      expect(p).toBeGreaterThanOrEqual(n);
      expect(p).toBeGreaterThanOrEqual(last);
      if (n > 512) expect(p / n).toBeLessThan(1.13);
      last = p;
    }
  });

  it('CryptoError carries a stable code', async () => {
    const e = await sealRecord({
      envelope: input({ version: -1 }),
      authorKey: doctor.privateKey,
      recipientKeys: [patient.publicKey],
    }).catch((x: unknown) => x);
    expect(e).toBeInstanceOf(CryptoError);
  });
});
