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
  /** The key the subject writes with: the person's key; for a team, its root admin's (the founder's) key. */
  fingerprint: Fingerprint;
  /**
   * A team only: the hash of its creation statement (docs/care-teams.md), so a look-alike team
   * under the same id is another subject. Absent for a person.
   */
  genesis?: string;
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
  /**
   * The patient's consent book after this statement: her latest `seq` for every subject she ever
   * signed about, this one included (docs/decisions.md, "A withdrawn consent replayed"). Its sum
   * counts every statement she signed, so it grows with each one (`consentBook`). Absent in
   * statements made before it.
   */
  book?: ConsentBookEntry[];
}

/** One subject's latest `seq` in a consent book: [kind, id, seq]. */
export type ConsentBookEntry = [ConsentSubjectKind, string, number];

export interface ConsentInput {
  patientId: string;
  subject: { kind: ConsentSubjectKind; id: string; fingerprint: string; genesis?: string };
  seq: number;
  since?: Date;
  withdrawnAt?: Date;
  /** Her latest `seq` for every other subject (this statement's own entry is added). */
  book?: ConsentBookEntry[];
}

/** What a verifier expects the statement to say (its own data, never the statement's). */
export interface ConsentExpectation {
  patientId: string;
  /** For a team: its id, root admin fingerprint and genesis, from its verified log. */
  subject: { kind: ConsentSubjectKind; id: string; fingerprint: string; genesis?: string };
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
const FIELDS = ['v', 'patientId', 'subject', 'seq', 'since', 'withdrawnAt', 'book'];
/** More subjects than anyone consents to in a lifetime; a bound on what a statement makes us read. */
const MAX_BOOK_ENTRIES = 1000;

const bookKey = (kind: string, id: string) => `${kind}:${id}`;

/** A book of well-formed entries, each subject once, naming `own` at exactly its seq. */
function isBook(
  v: unknown,
  own: { kind: string; id: string; seq: number },
): v is ConsentBookEntry[] {
  if (!Array.isArray(v) || v.length > MAX_BOOK_ENTRIES) return false;
  const keys = new Set<string>();
  let ownSeen = false;
  for (const e of v as unknown[]) {
    if (
      !Array.isArray(e) ||
      e.length !== 3 ||
      !KINDS.includes(e[0] as string) ||
      !isId(e[1]) ||
      !Number.isSafeInteger(e[2]) ||
      (e[2] as number) < 1
    )
      return false;
    const key = bookKey(e[0] as string, e[1]);
    if (keys.has(key)) return false;
    keys.add(key);
    if (key === bookKey(own.kind, own.id)) {
      if (e[2] !== own.seq) return false;
      ownSeen = true;
    }
  }
  return ownSeen;
}

const isId = (v: unknown): v is string => typeof v === 'string' && v !== '' && v.length <= 200;

function parseConsent(value: unknown): Consent | null {
  if (typeof value !== 'object' || value === null) return null;
  const c = value as Record<string, unknown>;
  if (!Object.keys(c).every((k) => FIELDS.includes(k)) || c.v !== 1) return null;
  const s = c.subject as Record<string, unknown> | null;
  if (typeof s !== 'object' || s === null) return null;
  // A team is named by its id and genesis (docs/care-teams.md); a person by the user id alone.
  const teamShaped = s.kind === 'team' ? isId(s.genesis) : s.genesis === undefined;
  if (!teamShaped || Object.keys(s).length !== (s.kind === 'team' ? 4 : 3)) return null;
  const ok =
    isId(c.patientId) &&
    typeof s.kind === 'string' &&
    KINDS.includes(s.kind) &&
    isId(s.id) &&
    isFingerprint(s.fingerprint) &&
    Number.isSafeInteger(c.seq) &&
    (c.seq as number) >= 1 &&
    isIsoTime(c.since) &&
    (c.withdrawnAt === undefined || isIsoTime(c.withdrawnAt)) &&
    (c.book === undefined ||
      isBook(c.book, { kind: s.kind as string, id: s.id as string, seq: c.seq as number }));
  return ok ? (c as unknown as Consent) : null;
}

/**
 * Signs a consent (or, with `withdrawnAt`, its withdrawal) with the patient's key. Returns the
 * armored signed statement the server stores.
 * @throws CryptoError `invalid-argument` (not the format: ids, fingerprint, seq, kind).
 */
export async function createConsent(opts: {
  consent: ConsentInput;
  patientKey: UnlockedKey;
}): Promise<{ signedConsent: string; consent: Consent }> {
  const input = opts.consent;
  const consent: Consent = {
    v: 1,
    patientId: input.patientId as UserId,
    subject: {
      kind: input.subject.kind,
      id: input.subject.id,
      fingerprint: input.subject.fingerprint.toLowerCase() as Fingerprint,
      ...(input.subject.genesis !== undefined ? { genesis: input.subject.genesis } : {}),
    },
    seq: input.seq,
    since: (input.since ?? new Date()).toISOString(),
    ...(input.withdrawnAt ? { withdrawnAt: input.withdrawnAt.toISOString() } : {}),
    ...(input.book
      ? {
          book: [
            ...input.book.filter(
              ([kind, id]) => bookKey(kind, id) !== bookKey(input.subject.kind, input.subject.id),
            ),
            [input.subject.kind, input.subject.id, input.seq] as ConsentBookEntry,
          ],
        }
      : {}),
  };
  if (!parseConsent(consent)) {
    throw new CryptoError(
      'invalid-argument',
      'a consent needs a patient id, a subject (person, or team with its genesis; id, fingerprint) and a seq ≥ 1',
    );
  }
  const signedConsent = await signInline(
    statementBytes(CONSENT_PURPOSE, 'consent', consent),
    opts.patientKey,
  );
  return { signedConsent, consent };
}

/**
 * Verifies a consent statement against the patient's key and what the verifier expects, for a
 * person or a team alike. Checks run in this order: signature (and format), patient, subject
 * (kind and id, and a team's genesis), fingerprint, replay (`minSeq`), withdrawal.
 * @throws CryptoError `invalid-key` only when `patientPublicKey` itself is unreadable.
 */
export async function verifyConsent(opts: {
  signedConsent: string;
  patientPublicKey: string;
  expect: ConsentExpectation;
}): Promise<VerifyConsentResult> {
  const { expect } = opts;
  const key = await parseKey(opts.patientPublicKey);
  const signed =
    typeof opts.signedConsent === 'string' && opts.signedConsent.length <= MAX_CONSENT_CHARS
      ? opts.signedConsent
      : '';
  const consent = parseConsent(await verifyStatement(signed, key, CONSENT_PURPOSE, 'consent'));
  if (!consent) return { status: 'bad-signature' };
  if (consent.patientId !== expect.patientId) return { status: 'wrong-patient' };
  const sameSubject =
    consent.subject.kind === expect.subject.kind &&
    consent.subject.id === expect.subject.id &&
    consent.subject.genesis ===
      (expect.subject.kind === 'team' ? expect.subject.genesis : undefined);
  if (!sameSubject) return { status: 'wrong-subject' };
  if (consent.subject.fingerprint !== expect.subject.fingerprint.toLowerCase())
    return { status: 'wrong-fingerprint', consent };
  if (expect.minSeq !== undefined && consent.seq < expect.minSeq)
    return { status: 'replayed', consent };
  if (consent.withdrawnAt !== undefined) return { status: 'withdrawn', consent };
  return { status: 'valid', consent };
}

/** A patient's consent book as a verifier reads it from her statements (`consentBook`). */
export type ConsentBookResult =
  /** `n` counts her statements; `minSeq[kind:id]` is the lowest seq still current per subject. */
  | { status: 'current'; n: number; minSeq: Record<string, number> }
  /** Her statements shown are older than a book the verifier already saw (`knownN`): a replay. */
  | { status: 'rolled-back'; n: number; knownN: number };

/** The key `consentBook`'s `minSeq` uses for a subject. */
export const consentBookKey = (subject: { kind: ConsentSubjectKind; id: string }) =>
  bookKey(subject.kind, subject.id);

/**
 * The defence against a withdrawn consent replayed to the patient's other doctors (issue 10 class
 * 11): every statement she signs carries her whole consent book, so one newer statement of hers
 * tells the lowest seq still current for every subject. Given her current statements as the
 * server lists them, each already verified with her key (`verifyConsent`), this merges their
 * books (each entry is a lower bound she signed) and counts her statements (`n`, the largest
 * sum of a book). A verifier that saw a larger `n` before (`knownN`: kept in its account state,
 * or read from something else she signed) gets `rolled-back`; otherwise a consent counts only at
 * or above `minSeq` (pass it as `verifyConsent`'s `expect.minSeq`). Pure; never throws.
 */
export function consentBook(
  consents: readonly Consent[],
  opts: { knownN?: number } = {},
): ConsentBookResult {
  const minSeq: Record<string, number> = {};
  let n = 0;
  for (const c of consents) {
    let sum = 0;
    for (const [kind, id, seq] of c.book ?? [[c.subject.kind, c.subject.id, c.seq]]) {
      const key = bookKey(kind, id);
      minSeq[key] = Math.max(minSeq[key] ?? 0, seq);
      sum += seq;
    }
    n = Math.max(n, sum);
  }
  const knownN = opts.knownN ?? 0;
  return n < knownN ? { status: 'rolled-back', n, knownN } : { status: 'current', n, minSeq };
}
