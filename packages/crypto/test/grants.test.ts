import { createGrant, grantIsCurrent, verifyGrant, type RecordId, type UserId } from '../src';
import { codeOf, fixture, makeUser } from './helpers';

const recordId = 'rec-1' as RecordId;
const patient = 'user-patient' as UserId;
const doctor = 'user-doctor' as UserId;

describe('createGrant / verifyGrant', () => {
  let owner: Awaited<ReturnType<typeof makeUser>>;
  let grantee: Awaited<ReturnType<typeof makeUser>>;
  let other: Awaited<ReturnType<typeof makeUser>>;
  beforeAll(async () => {
    [owner, grantee, other] = await Promise.all([
      makeUser('Owner'),
      makeUser('Grantee'),
      makeUser('Other'),
    ]);
  });

  it('when the owner signs a grant, then it verifies with the owner key and returns the same grant', async () => {
    const expiresAt = new Date(Date.now() + 86400_000);
    const { signedGrant, grant } = await createGrant({
      grant: {
        recordId,
        granteeUserId: doctor,
        granteeFingerprint: grantee.fingerprint,
        grantedBy: patient,
        expiresAt,
      },
      signerKey: owner.privateKey,
    });
    expect(signedGrant).toContain('-----BEGIN PGP MESSAGE-----');
    const result = await verifyGrant({ signedGrant, signerPublicKey: owner.publicKey });
    expect(result).toEqual({ status: 'verified', grant });
    expect(grant).toMatchObject({
      v: 1,
      recordId,
      granteeUserId: doctor,
      grantedBy: patient,
      expiresAt: expiresAt.toISOString(),
    });
    expect(grantIsCurrent(grant)).toBe(true);
    expect(grantIsCurrent(grant, new Date(expiresAt.getTime() + 1))).toBe(false);
  });

  it('when verified with another key, then bad-signature', async () => {
    const { signedGrant } = await createGrant({
      grant: {
        recordId,
        granteeUserId: doctor,
        granteeFingerprint: grantee.fingerprint,
        grantedBy: patient,
      },
      signerKey: owner.privateKey,
    });
    expect(await verifyGrant({ signedGrant, signerPublicKey: other.publicKey })).toEqual({
      status: 'bad-signature',
    });
  });

  it('when the signed grant is altered or is not a signed message, then bad-signature', async () => {
    const { signedGrant } = await createGrant({
      grant: {
        recordId,
        granteeUserId: doctor,
        granteeFingerprint: grantee.fingerprint,
        grantedBy: patient,
      },
      signerKey: owner.privateKey,
    });
    const lines = signedGrant.split('\n');
    const i = lines.findIndex((l) => l.length > 40);
    const line = lines[i] ?? '';
    lines[i] = line.slice(0, 20) + (line[20] === 'A' ? 'B' : 'A') + line.slice(21);
    expect(
      await verifyGrant({ signedGrant: lines.join('\n'), signerPublicKey: owner.publicKey }),
    ).toEqual({ status: 'bad-signature' });
    expect(
      await verifyGrant({ signedGrant: 'nonsense', signerPublicKey: owner.publicKey }),
    ).toEqual({ status: 'bad-signature' });
    expect(
      await verifyGrant({
        signedGrant: fixture('sed-to-good.asc'),
        signerPublicKey: owner.publicKey,
      }),
    ).toEqual({ status: 'bad-signature' });
  });

  it('when the grantee fingerprint is not 40 hex, then invalid-fingerprint; when the signer key is unreadable, then invalid-key', async () => {
    expect(
      await codeOf(
        createGrant({
          grant: {
            recordId,
            granteeUserId: doctor,
            granteeFingerprint: 'abc' as never,
            grantedBy: patient,
          },
          signerKey: owner.privateKey,
        }),
      ),
    ).toBe('invalid-fingerprint');
    expect(await codeOf(verifyGrant({ signedGrant: 'x', signerPublicKey: 'not a key' }))).toBe(
      'invalid-key',
    );
  });

  it('when a required field is empty, then invalid-argument', async () => {
    expect(
      await codeOf(
        createGrant({
          grant: {
            recordId: '' as RecordId,
            granteeUserId: doctor,
            granteeFingerprint: grantee.fingerprint,
            grantedBy: patient,
          },
          signerKey: owner.privateKey,
        }),
      ),
    ).toBe('invalid-argument');
  });
});
