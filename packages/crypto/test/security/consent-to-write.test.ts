// Attack (issue 10 class 11): an account that calls itself a doctor writes records for a patient
// who never agreed, or a server shows a consent the patient never gave, gave to another key or
// person, or withdrew. A consent counts only when the patient's own key signed it for this
// subject and key, and it is the latest statement the verifier knows of.
import {
  createConsent,
  createGrant,
  verifyConsent,
  type ConsentInput,
  type RecordId,
  type UserId,
} from '../../src';
import { makeUser } from '../helpers';

describe('attack: writing for a patient without her consent', () => {
  let patient: Awaited<ReturnType<typeof makeUser>>;
  let doctor: Awaited<ReturnType<typeof makeUser>>;
  let impostor: Awaited<ReturnType<typeof makeUser>>;
  let server: Awaited<ReturnType<typeof makeUser>>;
  let input: ConsentInput;
  let expect_: { patientId: string; subject: ConsentInput['subject'] };

  beforeAll(async () => {
    [patient, doctor, impostor, server] = await Promise.all([
      makeUser('Patient'),
      makeUser('Doctor'),
      makeUser('Impostor'),
      makeUser('Server'),
    ]);
    input = {
      patientId: 'u-patient',
      subject: { kind: 'person', id: 'u-doctor', fingerprint: doctor.fingerprint },
      seq: 1,
    };
    expect_ = { patientId: 'u-patient', subject: input.subject };
  });

  it('when the patient signed the consent for this doctor and key, then it is valid', async () => {
    const { signedConsent } = await createConsent({
      consent: input,
      patientKey: patient.privateKey,
    });
    const result = await verifyConsent({
      signedConsent,
      patientPublicKey: patient.publicKey,
      expect: expect_,
    });
    expect(result).toMatchObject({
      status: 'valid',
      consent: { patientId: 'u-patient', subject: input.subject, seq: 1 },
    });
  });

  it('when the consent is signed by another key than the patient’s (forged), then bad-signature', async () => {
    const forged = await createConsent({ consent: input, patientKey: server.privateKey });
    expect(
      await verifyConsent({
        signedConsent: forged.signedConsent,
        patientPublicKey: patient.publicKey,
        expect: expect_,
      }),
    ).toEqual({ status: 'bad-signature' });
  });

  it('when another statement the patient signed (a grant) is offered as a consent, then bad-signature', async () => {
    const { signedGrant } = await createGrant({
      grant: {
        recordId: 'rec-1' as RecordId,
        granteeUserId: 'u-doctor' as UserId,
        granteeFingerprint: doctor.fingerprint,
        grantedBy: 'u-patient' as UserId,
      },
      signerKey: patient.privateKey,
    });
    expect(
      await verifyConsent({
        signedConsent: signedGrant,
        patientPublicKey: patient.publicKey,
        expect: expect_,
      }),
    ).toEqual({ status: 'bad-signature' });
  });

  it('when the consent names another key than the writer’s (a key the server swapped in), then wrong-fingerprint', async () => {
    const { signedConsent } = await createConsent({
      consent: input,
      patientKey: patient.privateKey,
    });
    const result = await verifyConsent({
      signedConsent,
      patientPublicKey: patient.publicKey,
      expect: { ...expect_, subject: { ...input.subject, fingerprint: impostor.fingerprint } },
    });
    expect(result.status).toBe('wrong-fingerprint');
  });

  it('when a consent another patient gave is shown for this patient, then wrong-patient', async () => {
    const other = await createConsent({
      consent: { ...input, patientId: 'u-other' },
      patientKey: patient.privateKey,
    });
    expect(
      await verifyConsent({
        signedConsent: other.signedConsent,
        patientPublicKey: patient.publicKey,
        expect: expect_,
      }),
    ).toEqual({ status: 'wrong-patient' });
  });

  it('when a consent for another doctor (or a team of the same id) is shown for this one, then wrong-subject', async () => {
    const toOther = await createConsent({
      consent: { ...input, subject: { ...input.subject, id: 'u-impostor' } },
      patientKey: patient.privateKey,
    });
    const toTeam = await createConsent({
      consent: { ...input, subject: { ...input.subject, kind: 'team', genesis: 'g-1' } },
      patientKey: patient.privateKey,
    });
    for (const s of [toOther, toTeam]) {
      expect(
        await verifyConsent({
          signedConsent: s.signedConsent,
          patientPublicKey: patient.publicKey,
          expect: expect_,
        }),
      ).toEqual({ status: 'wrong-subject' });
    }
  });

  it('when the patient withdrew the consent, then withdrawn', async () => {
    const since = new Date('2026-12-01T09:00:00.000Z');
    const { signedConsent } = await createConsent({
      consent: { ...input, seq: 2, since, withdrawnAt: new Date() },
      patientKey: patient.privateKey,
    });
    const result = await verifyConsent({
      signedConsent,
      patientPublicKey: patient.publicKey,
      expect: expect_,
    });
    expect(result).toMatchObject({
      status: 'withdrawn',
      consent: { seq: 2, since: since.toISOString() },
    });
  });

  it('when the server replays the consent after the patient withdrew it, then replayed for whoever knows the withdrawal', async () => {
    const first = await createConsent({ consent: input, patientKey: patient.privateKey });
    const result = await verifyConsent({
      signedConsent: first.signedConsent,
      patientPublicKey: patient.publicKey,
      expect: { ...expect_, minSeq: 2 },
    });
    expect(result).toMatchObject({ status: 'replayed', consent: { seq: 1 } });
  });

  it('when a team consent is verified as a team, then valid (one verifier for either kind)', async () => {
    const team = {
      kind: 'team' as const,
      id: 'team-1',
      fingerprint: doctor.fingerprint,
      genesis: 'genesis-1',
    };
    const { signedConsent } = await createConsent({
      consent: { ...input, subject: team },
      patientKey: patient.privateKey,
    });
    const result = await verifyConsent({
      signedConsent,
      patientPublicKey: patient.publicKey,
      expect: { patientId: 'u-patient', subject: team },
    });
    expect(result).toMatchObject({ status: 'valid', consent: { subject: team } });
  });

  it('when a team consent is shown for a look-alike team (same id and admin key, another creation), then wrong-subject', async () => {
    const team = {
      kind: 'team' as const,
      id: 'team-1',
      fingerprint: doctor.fingerprint,
      genesis: 'genesis-1',
    };
    const { signedConsent } = await createConsent({
      consent: { ...input, subject: team },
      patientKey: patient.privateKey,
    });
    const lookAlike = { ...team, genesis: 'genesis-2' };
    expect(
      await verifyConsent({
        signedConsent,
        patientPublicKey: patient.publicKey,
        expect: { patientId: 'u-patient', subject: lookAlike },
      }),
    ).toEqual({ status: 'wrong-subject' });
  });

  it('when a team consent has no genesis, or a person consent has one, then it is not made', async () => {
    await expect(
      createConsent({
        consent: {
          ...input,
          subject: { kind: 'team', id: 'team-1', fingerprint: doctor.fingerprint },
        },
        patientKey: patient.privateKey,
      }),
    ).rejects.toMatchObject({ code: 'invalid-argument' });
    await expect(
      createConsent({
        consent: { ...input, subject: { ...input.subject, genesis: 'g' } },
        patientKey: patient.privateKey,
      }),
    ).rejects.toMatchObject({ code: 'invalid-argument' });
  });

  it('when the statement is not a signed message at all, then bad-signature, never a throw', async () => {
    for (const junk of [
      '',
      'not armor',
      '-----BEGIN PGP MESSAGE-----\n\n-----END PGP MESSAGE-----',
      'x'.repeat(20_000),
    ]) {
      expect(
        await verifyConsent({
          signedConsent: junk,
          patientPublicKey: patient.publicKey,
          expect: expect_,
        }),
      ).toEqual({ status: 'bad-signature' });
    }
  });
});
