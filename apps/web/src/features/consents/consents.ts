import { endpoints, type Recipient } from '@medseal/contract';
import type { ConsentGiven, Fingerprint } from '@medseal/crypto';
import { isApiError } from '../../api/errors';
import type { RecordDeps } from '../records/recordService';

/**
 * Consent to write (DESIGN §13, issue 10 class 11) from the browser's side. The patient signs
 * each statement in the worker, keeps the latest one per doctor in her account state (what she
 * trusts) and stores the statement on the server (what the server enforces and her doctors
 * verify with her key).
 */

/** My latest statement about `subjectId`, from my signed account state. */
export function consentTo(
  consents: readonly ConsentGiven[],
  subjectId: string,
): ConsentGiven | undefined {
  return consents.find((c) => c.kind === 'person' && c.subjectId === subjectId);
}

/** True when my current consent lets `subjectId` write for me with the key `fingerprint`. */
export function consentsNow(
  consents: readonly ConsentGiven[],
  subjectId: string,
  fingerprint: string,
): boolean {
  const c = consentTo(consents, subjectId);
  return !!c && c.withdrawnAt === undefined && c.fingerprint === fingerprint;
}

/**
 * Whether a record `authorId` signed with the key `fingerprint` at `signedAt` was written under
 * my consent: the consent named that key and was not withdrawn before the record was signed.
 */
export function writtenWithConsent(
  consents: readonly ConsentGiven[],
  authorId: string,
  fingerprint: string,
  signedAt: Date,
): boolean {
  const c = consentTo(consents, authorId);
  return (
    !!c &&
    c.fingerprint === fingerprint &&
    (c.withdrawnAt === undefined || Date.parse(c.withdrawnAt) > signedAt.getTime())
  );
}

/**
 * Signs and stores my consent for `doctor` (with the key I see for them) to write for me, or,
 * `give: false`, its withdrawal. The account state is saved first: it is what this app trusts,
 * and a later statement always takes a higher `seq` than any the server holds from it.
 */
export async function setConsent(
  deps: RecordDeps,
  doctor: { id: string; fingerprint: string },
  give: boolean,
): Promise<void> {
  const previous = consentTo(deps.accountState.consents, doctor.id);
  if (!give && (!previous || previous.withdrawnAt !== undefined)) return;
  const now = new Date();
  const { signedConsent, consent } = await deps.crypto.createConsent({
    consent: {
      patientId: deps.me.id,
      subject: {
        kind: 'person',
        id: doctor.id,
        fingerprint: give ? doctor.fingerprint : (previous?.fingerprint ?? doctor.fingerprint),
      },
      seq: (previous?.seq ?? 0) + 1,
      since: give || !previous ? now : new Date(previous.since),
      ...(give ? {} : { withdrawnAt: now }),
    },
    keyHandle: deps.key.handle,
  });
  const entry: ConsentGiven = {
    kind: 'person',
    subjectId: doctor.id,
    fingerprint: consent.subject.fingerprint,
    since: consent.since,
    seq: consent.seq,
    ...(consent.withdrawnAt ? { withdrawnAt: consent.withdrawnAt } : {}),
  };
  await deps.accountState.update((state) => ({
    ...state,
    consents: [
      ...state.consents.filter((c) => !(c.kind === 'person' && c.subjectId === doctor.id)),
      entry,
    ],
  }));
  await deps.call(endpoints.putConsent, {
    params: { patientId: deps.me.id, subjectId: doctor.id },
    body: { signedConsent },
  });
}

/** What a doctor verified of a patient's consents: his own, and her other current carers. */
export interface VerifiedCarers {
  /** The patient's current consent names me with my key. */
  mine: boolean;
  /** Doctors (not me) her verified statements let write for her, with the key they name. */
  carers: Recipient[];
}

/**
 * A patient's current consents as a doctor sees them, each verified with the patient's key
 * (`patient.publicKey`, whose fingerprint verified data gave): what the server lists counts
 * only when she signed it. No consent of hers for me (404) is `mine: false` and no carers.
 */
export async function verifiedCarersOf(
  deps: RecordDeps,
  patient: { id: string; publicKey: string },
): Promise<VerifiedCarers> {
  let listed;
  try {
    listed = await deps.call(endpoints.listConsents, { params: { patientId: patient.id } });
  } catch (error) {
    if (isApiError(error, 'consent-not-found')) return { mine: false, carers: [] };
    throw error;
  }
  const results = await Promise.all(
    listed.consents.map(async (c) => ({
      c,
      result: await deps.crypto.verifyConsent({
        signedConsent: c.signedConsent,
        patientPublicKey: patient.publicKey,
        expect: {
          patientId: patient.id,
          subject: { kind: 'person', id: c.subjectId, fingerprint: c.fingerprint },
        },
      }),
    })),
  );
  const valid = results
    .filter((r) => r.result.status === 'valid')
    .map((r) => ({ userId: r.c.subjectId, fingerprint: r.c.fingerprint as Fingerprint }));
  return {
    mine: valid.some((v) => v.userId === deps.me.id && v.fingerprint === deps.key.fingerprint),
    carers: valid.filter((v) => v.userId !== deps.me.id),
  };
}
