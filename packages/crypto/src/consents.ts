// Consent to write (DESIGN §13, issue 10 class 11): a care relationship the patient signs. It
// names who may write records for her (a person, or a care team) and the key they write with,
// so an account that merely calls itself a doctor writes for no one. A withdrawal is a new
// statement for the same patient and subject with a higher `seq` and `withdrawnAt` set: the
// server keeps only the latest, and a verifier that knows a later `seq` refuses an older one
// (a server replaying the consent the patient withdrew).
import { CryptoError } from './errors';
import { isIsoTime } from './encoding';
import { parseKey, type UnlockedKey } from './keys';
import { signInline, statementBytes, verifyStatement } from './signing';
import { isFingerprint, type Fingerprint, type UserId } from './types';

/** Signed bytes start with this purpose, so no other signed statement (a grant...) passes for one. */
const CONSENT_PURPOSE = 'medseal/consent-to-write';
/** Longest armored statement accepted (one is ~0.8 KiB armored). */
export const MAX_CONSENT_CHARS = 8 * 1024;

/** Who the patient lets write: one person (a doctor), or a care team (docs/care-teams.md). */
export type ConsentSubjectKind = 'person' | 'team';

export interface ConsentSubject {
  kind: ConsentSubjectKind;
  /** A user id (person) or a team id (team). */
  id: string;
  /** The key the subject writes with: the person's key; for a team, the key its statements name. */
  fingerprint: Fingerprint;
}

/** The signed content of one consent statement. */
export interface Consent {
  v: 1;
  patientId: UserId;
  subject: ConsentSubject;
  /** 1 for the first statement about this subject, then +1 for each (withdrawal, consent again). */
  seq: number;
  /** ISO 8601: when this consent started (a withdrawal repeats it). */
  since: string;
  /** ISO 8601: set on a withdrawal; from then on the subject writes for the patient no more. */
  withdrawnAt?: string;
}

export interface ConsentInput {
  patientId: string;
  subject: { kind: ConsentSubjectKind; id: string; fingerprint: string };
  seq: number;
  since?: Date;
  withdrawnAt?: Date;
}

/** What a verifier expects the statement to say (its own data, never the statement's). */
export interface ConsentExpectation {
  patientId: string;
  subject: { kind: ConsentSubjectKind; id: string; fingerprint: string };
  /** The lowest `seq` still current, when the verifier knows one (a later statement it saw). */
  minSeq?: number;
}

export type VerifyConsentResult =
  | { status: 'valid'; consent: Consent }
  | { status: 'withdrawn'; consent: Consent }
  /** Older than a statement the verifier knows of (a withdrawal hidden by replaying the consent). */
  | { status: 'replayed'; consent: Consent }
  | { status: 'wrong-patient' }
  | { status: 'wrong-subject' }
  /** Names another key; `consent` is given so a withdrawal of an old key's consent still counts as one. */
  | { status: 'wrong-fingerprint'; consent: Consent }
  /** Not signed by the patient's key, another purpose, or not the format. */
  | { status: 'bad-signature' };

export type ConsentStatus = VerifyConsentResult['status'];

const KINDS: readonly string[] = ['person', 'team'];
const FIELDS = ['v', 'patientId', 'subject', 'seq', 'since', 'withdrawnAt'];

const isId = (v: unknown): v is string => typeof v === 'string' && v !== '' && v.length <= 200;

function parseConsent(value: unknown): Consent | null {
  if (typeof value !== 'object' || value === null) return null;
  const c = value as Record<string, unknown>;
  if (!Object.keys(c).every((k) => FIELDS.includes(k)) || c.v !== 1) return null;
  const s = c.subject as Record<string, unknown> | null;
  if (typeof s !== 'object' || s === null || Object.keys(s).length !== 3) return null;
  const ok =
    isId(c.patientId) &&
    typeof s.kind === 'string' &&
    KINDS.includes(s.kind) &&
    isId(s.id) &&
    isFingerprint(s.fingerprint) &&
    Number.isSafeInteger(c.seq) &&
    (c.seq as number) >= 1 &&
    isIsoTime(c.since) &&
    (c.withdrawnAt === undefined || isIsoTime(c.withdrawnAt));
  return ok ? (c as unknown as Consent) : null;
}

/**
 * Signs a consent (or, with `withdrawnAt`, its withdrawal) with the patient's key. Returns the
 * armored signed statement the server stores.
 * @throws CryptoError `invalid-argument` (not the format: ids, fingerprint, seq, kind).
 */
export async function createConsent(opts: { consent: ConsentInput; patientKey: UnlockedKey }): Promise<{ signedConsent: string; consent: Consent }> {
  const input = opts.consent;
  const consent: Consent = {
    v: 1,
    patientId: input.patientId as UserId,
    subject: { kind: input.subject.kind, id: input.subject.id, fingerprint: input.subject.fingerprint.toLowerCase() as Fingerprint },
    seq: input.seq,
    since: (input.since ?? new Date()).toISOString(),
    ...(input.withdrawnAt ? { withdrawnAt: input.withdrawnAt.toISOString() } : {}),
  };
  if (!parseConsent(consent)) {
    throw new CryptoError('invalid-argument', 'a consent needs a patient id, a subject (person or team, id, fingerprint) and a seq ≥ 1');
  }
  const signedConsent = await signInline(statementBytes(CONSENT_PURPOSE, 'consent', consent), opts.patientKey);
  return { signedConsent, consent };
}

/**
 * Verifies a consent statement against the patient's key and what the verifier expects, for a
 * person or a team alike. Checks run in this order: signature (and format), patient, subject
 * (kind and id), fingerprint, replay (`minSeq`), withdrawal.
 * @throws CryptoError `invalid-key` only when `patientPublicKey` itself is unreadable.
 */
export async function verifyConsent(opts: {
  signedConsent: string;
  patientPublicKey: string;
  expect: ConsentExpectation;
}): Promise<VerifyConsentResult> {
  const { expect } = opts;
  const key = await parseKey(opts.patientPublicKey);
  const signed = typeof opts.signedConsent === 'string' && opts.signedConsent.length <= MAX_CONSENT_CHARS ? opts.signedConsent : '';
  const consent = parseConsent(await verifyStatement(signed, key, CONSENT_PURPOSE, 'consent'));
  if (!consent) return { status: 'bad-signature' };
  if (consent.patientId !== expect.patientId) return { status: 'wrong-patient' };
  if (consent.subject.kind !== expect.subject.kind || consent.subject.id !== expect.subject.id) return { status: 'wrong-subject' };
  if (consent.subject.fingerprint !== expect.subject.fingerprint.toLowerCase()) return { status: 'wrong-fingerprint', consent };
  if (expect.minSeq !== undefined && consent.seq < expect.minSeq) return { status: 'replayed', consent };
  if (consent.withdrawnAt !== undefined) return { status: 'withdrawn', consent };
  return { status: 'valid', consent };
}
