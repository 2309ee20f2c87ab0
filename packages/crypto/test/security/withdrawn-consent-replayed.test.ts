// Issue 10 class 11, the part left open: the server replays to the patient's other doctors a
// consent she withdrew (the older statement is authentic, so its signature passes). Every
// statement she signs now carries her consent book (her latest seq per subject), so one newer
// statement of hers about anyone gives the floor for every subject, and a doctor who saw a newer
// book refuses an older set of statements.
import {
  consentBook,
  consentBookKey,
  createConsent,
  verifyConsent,
  type Consent,
  type ConsentBookEntry,
  type ConsentInput,
} from '../../src';
import { makeUser } from '../helpers';

describe('attack: a withdrawn consent replayed to the patient’s other doctors', () => {
  let patient: Awaited<ReturnType<typeof makeUser>>;
  let x: Awaited<ReturnType<typeof makeUser>>;
  const subject = (id: string, fingerprint: string) => ({
    kind: 'person' as const,
    id,
    fingerprint,
  });
  /** What her app signs: the subject's next seq and her book so far. */
  async function sign(input: ConsentInput) {
    return createConsent({ consent: input, patientKey: patient.privateKey });
  }
  let xGiven: { signedConsent: string; consent: Consent };
  let yGiven: { signedConsent: string; consent: Consent };
  let xWithdrawn: { signedConsent: string; consent: Consent };
  let zGiven: { signedConsent: string; consent: Consent };

  beforeAll(async () => {
    [patient, x] = await Promise.all([makeUser('Patient'), makeUser('DoctorX')]);
    const book = (...entries: ConsentBookEntry[]) => entries;
    xGiven = await sign({
      patientId: 'u-p',
      subject: subject('u-x', x.fingerprint),
      seq: 1,
      book: book(),
    });
    yGiven = await sign({
      patientId: 'u-p',
      subject: subject('u-y', x.fingerprint),
      seq: 1,
      book: book(['person', 'u-x', 1]),
    });
    xWithdrawn = await sign({
      patientId: 'u-p',
      subject: subject('u-x', x.fingerprint),
      seq: 2,
      withdrawnAt: new Date(),
      book: book(['person', 'u-x', 1], ['person', 'u-y', 1]),
    });
    zGiven = await sign({
      patientId: 'u-p',
      subject: subject('u-z', x.fingerprint),
      seq: 1,
      book: book(['person', 'u-x', 2], ['person', 'u-y', 1]),
    });
  });

  it('when she signs, then her book names every subject at its latest seq and counts her statements', () => {
    expect(zGiven.consent.book).toEqual([
      ['person', 'u-x', 2],
      ['person', 'u-y', 1],
      ['person', 'u-z', 1],
    ]);
    expect(consentBook([zGiven.consent])).toMatchObject({ status: 'current', n: 4 });
  });

  it('when the server replays X’s consent beside a newer statement about someone else, then X’s consent is replayed', async () => {
    const listed = [xGiven.consent, yGiven.consent, zGiven.consent];
    const book = consentBook(listed);
    if (book.status !== 'current') throw new Error('expected a current book');
    const minSeq = book.minSeq[consentBookKey({ kind: 'person', id: 'u-x' })];
    expect(minSeq).toBe(2);
    const result = await verifyConsent({
      signedConsent: xGiven.signedConsent,
      patientPublicKey: patient.publicKey,
      expect: {
        patientId: 'u-p',
        subject: subject('u-x', x.fingerprint),
        ...(minSeq ? { minSeq } : {}),
      },
    });
    expect(result.status).toBe('replayed');
  });

  it('when the server serves only statements older than a book the doctor saw, then rolled-back', () => {
    // The doctor saw n = 3 (the withdrawal's book) before; the server now shows the state at n = 2.
    expect(consentBook([xGiven.consent, yGiven.consent], { knownN: 3 })).toEqual({
      status: 'rolled-back',
      n: 2,
      knownN: 3,
    });
    expect(consentBook([xWithdrawn.consent, yGiven.consent], { knownN: 3 })).toMatchObject({
      status: 'current',
      n: 3,
    });
  });

  it('when a statement has no book (signed before books), then it still verifies; a book naming a subject twice is refused', async () => {
    const forged = await createConsent({
      consent: { patientId: 'u-p', subject: subject('u-x', x.fingerprint), seq: 1 },
      patientKey: patient.privateKey,
    });
    expect(
      (
        await verifyConsent({
          signedConsent: forged.signedConsent,
          patientPublicKey: patient.publicKey,
          expect: { patientId: 'u-p', subject: subject('u-x', x.fingerprint) },
        })
      ).status,
    ).toBe('valid');
    // createConsent always writes its own entry; a book naming a subject twice is refused.
    await expect(
      createConsent({
        consent: {
          patientId: 'u-p',
          subject: subject('u-x', x.fingerprint),
          seq: 3,
          book: [
            ['person', 'u-y', 1],
            ['person', 'u-y', 2],
          ],
        },
        patientKey: patient.privateKey,
      }),
    ).rejects.toMatchObject({ code: 'invalid-argument' });
  });
});
