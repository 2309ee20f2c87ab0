import { endpoints, type Recipient } from '@medseal/contract';
import type { Consent, ConsentBookEntry, ConsentGiven, TeamState } from '@medseal/crypto';
import { isApiError } from '../../api/errors';
import { pinStateNow, whyBlocked } from '../contacts/contactsModel';
import type { RecordDeps } from '../records/recordService';

/**
 * Consent to write (DESIGN §13, issue 10 class 11) from the browser's side. The patient signs
 * each statement in the worker, keeps the latest one per doctor in her account state (what she
 * trusts) and stores the statement on the server (what the server enforces and her doctors
 * verify with her key).
 */

/** Whom a consent names: a doctor, or a care team (its root admin key and genesis, from its verified log). */
export type ConsentSubjectRef =
  | { kind: 'person'; id: string; fingerprint: string }
  | { kind: 'team'; id: string; fingerprint: string; genesis: string };

/** My latest statement about this person or team, from my signed account state. */
export function consentTo(
  consents: readonly ConsentGiven[],
  subject: Pick<ConsentSubjectRef, 'kind' | 'id'>,
): ConsentGiven | undefined {
  return consents.find((c) => c.kind === subject.kind && c.subjectId === subject.id);
}

/** True when `c` names exactly this subject's key (and, for a team, its creation). */
const namesExactly = (c: ConsentGiven, subject: ConsentSubjectRef) =>
  c.fingerprint === subject.fingerprint &&
  (subject.kind === 'person' || c.genesis === subject.genesis);

/** True when my current consent lets this person (with this key) or team write for me. */
export function consentsNow(
  consents: readonly ConsentGiven[],
  subject: ConsentSubjectRef,
): boolean {
  const c = consentTo(consents, subject);
  return !!c && c.withdrawnAt === undefined && namesExactly(c, subject);
}

/** What the patient's signed state can say about a record someone else signed for her. */
export type RecordConsent =
  /** A current consent names the author's signing key (in person, or a team of the record he is a current member of). */
  | { status: 'consented' }
  /**
   * Such a consent existed and was withdrawn at `withdrawnAt`, and the record says it was signed
   * before: a date its author chose, so whether it was written under the consent is not known.
   */
  | { status: 'withdrawn'; withdrawnAt: string }
  /** No consent of hers ever named that key, or the author's own date is after the withdrawal. */
  | { status: 'none' };

/**
 * Whether a record `author` signed with the key `author.fingerprint` was written under my
 * consent, from my signed state only. The record's signature time is chosen by its author, so it
 * never makes a record consented on its own: it only separates "withdrawn, maybe written before"
 * (`withdrawn`) from "written after, by the author's own account" (`none`). `teams`: the verified
 * states of the record's care teams; a team consent counts when the team's log has the author as
 * a current member with that key.
 */
export function consentForRecord(
  consents: readonly ConsentGiven[],
  author: { id: string; fingerprint: string },
  signedAt: Date,
  teams: readonly TeamState[] = [],
): RecordConsent {
  const person = consentTo(consents, { kind: 'person', id: author.id });
  const candidates = [
    ...(person && person.fingerprint === author.fingerprint ? [person] : []),
    ...teams.flatMap((t) => {
      const c = consentTo(consents, { kind: 'team', id: t.teamId });
      const member = t.members.some(
        (m) => m.userId === author.id && m.fingerprint === author.fingerprint,
      );
      return c && member && namesExactly(c, teamSubject(t)) ? [c] : [];
    }),
  ];
  if (candidates.some((c) => c.withdrawnAt === undefined)) return { status: 'consented' };
  const withdrawnAt = candidates
    .map((c) => c.withdrawnAt ?? '')
    .filter((at) => Date.parse(at) > signedAt.getTime())
    .sort()
    .pop();
  return withdrawnAt ? { status: 'withdrawn', withdrawnAt } : { status: 'none' };
}

/** The consent subject of a verified team: its id, founder's key and genesis. */
export function teamSubject(team: TeamState): ConsentSubjectRef {
  return {
    kind: 'team',
    id: team.teamId,
    fingerprint: team.root.fingerprint,
    genesis: team.genesis,
  };
}

/**
 * Signs and stores my consent for `subject` (a doctor with the key I see for them, or a care team
 * as its verified log names it) to write for me, or, `give: false`, its withdrawal. The account
 * state is saved first: it is what this app trusts, and a later statement always takes a higher
 * `seq` than any the server holds from it.
 */
export async function setConsent(
  deps: RecordDeps,
  subject: ConsentSubjectRef,
  give: boolean,
): Promise<void> {
  const previous = consentTo(deps.accountState.consents, subject);
  if (!give && (!previous || previous.withdrawnAt !== undefined)) return;
  if (give && subject.kind === 'person') {
    // Only a key I pinned, never one that changed or whose numbers did not match (the pins as
    // they are now: sharing pins a first-seen key just before this).
    const state = pinStateNow(deps.accountState.pins, subject.id, subject.fingerprint);
    if (state.status !== 'pinned' && state.status !== 'verified')
      throw new Error(
        whyBlocked(state, 'this doctor') ??
          'Share with this doctor first, or compare numbers: their key is not one you have seen.',
      );
  }
  const now = new Date();
  const genesis = subject.kind === 'team' ? { genesis: subject.genesis } : {};
  const { signedConsent, consent } = await deps.crypto.createConsent({
    consent: {
      patientId: deps.me.id,
      subject: {
        kind: subject.kind,
        id: subject.id,
        fingerprint: give ? subject.fingerprint : (previous?.fingerprint ?? subject.fingerprint),
        ...genesis,
      },
      seq: (previous?.seq ?? 0) + 1,
      since: give || !previous ? now : new Date(previous.since),
      ...(give ? {} : { withdrawnAt: now }),
      // My whole consent book, so each of my doctors can tell a replayed older statement.
      book: deps.accountState.consents.map((c): ConsentBookEntry => [c.kind, c.subjectId, c.seq]),
    },
    keyHandle: deps.key.handle,
  });
  const entry: ConsentGiven = {
    kind: subject.kind,
    subjectId: subject.id,
    fingerprint: consent.subject.fingerprint,
    since: consent.since,
    seq: consent.seq,
    ...(consent.withdrawnAt ? { withdrawnAt: consent.withdrawnAt } : {}),
    ...genesis,
  };
  await deps.accountState.update((state) => ({
    ...state,
    consents: [
      ...state.consents.filter((c) => !(c.kind === subject.kind && c.subjectId === subject.id)),
      entry,
    ],
  }));
  const body = { signedConsent };
  if (subject.kind === 'team') {
    await deps.call(endpoints.putTeamConsent, {
      params: { patientId: deps.me.id, teamId: subject.id },
      body,
    });
  } else {
    await deps.call(endpoints.putConsent, {
      params: { patientId: deps.me.id, subjectId: subject.id },
      body,
    });
  }
}

/** What a doctor verified of a patient's consents: his own, and her other current carers. */
export interface VerifiedCarers {
  /** Her current consent names me with my key, or one of the teams I write through. */
  mine: boolean;
  /** Doctors (not me) her verified statements let write for her, with the key they name. */
  carers: Recipient[];
  /** Of the teams asked about, those her verified statements let write for her. */
  teams: string[];
}

/**
 * A patient's current consents as a doctor sees them, each verified with the patient's key
 * (`patient.publicKey`, whose fingerprint verified data gave): what the server lists counts
 * only when she signed it, and only when no later statement of hers (her consent book) and no
 * book I verified before says it was replaced. A consent to a team counts for me only for a team
 * in `myTeams` (the verified teams I write through, I a current member with my key), as its log
 * names it; `teams` says which of `myTeams` she consented to. No consent of hers for me (404)
 * is `mine: false` and no carers.
 * @throws Error when her statements are older than a book I verified before (a replay).
 */
export async function verifiedCarersOf(
  deps: RecordDeps,
  patient: { id: string; publicKey: string },
  myTeams: readonly TeamState[] = [],
): Promise<VerifiedCarers> {
  let listed;
  try {
    listed = await deps.call(endpoints.listConsents, { params: { patientId: patient.id } });
  } catch (error) {
    if (isApiError(error, 'consent-not-found')) return { mine: false, carers: [], teams: [] };
    throw error;
  }
  // Every statement she signed counts for her book, withdrawals too: each is checked against the
  // subject the server says it names (her signature is what matters for the book).
  const checked = await Promise.all(
    listed.consents.map(async (c) => {
      const subject: ConsentSubjectRef =
        c.subjectKind === 'team'
          ? { kind: 'team', id: c.subjectId, fingerprint: c.fingerprint, genesis: c.genesis ?? '' }
          : { kind: 'person', id: c.subjectId, fingerprint: c.fingerprint };
      const result = await deps.crypto.verifyConsent({
        signedConsent: c.signedConsent,
        patientPublicKey: patient.publicKey,
        expect: { patientId: patient.id, subject },
      });
      return result.status === 'valid' || result.status === 'withdrawn' ? result.consent : null;
    }),
  );
  const signed = checked.filter((c): c is Consent => c !== null);
  // A statement older than one she signed later (her book), or a set of statements older than
  // any I verified before, is a withdrawn consent replayed (docs/decisions.md).
  const book = await deps.crypto.consentBook(signed, {
    knownN: deps.accountState.consentBookOf(patient.id) ?? 0,
  });
  if (book.status === 'rolled-back') {
    throw new Error(
      `Security warning: the server shows older consents of this patient than you already saw (${book.n} statements, you saw ${book.knownN}). A withdrawal may be hidden: nothing of them is used.`,
    );
  }
  await deps.accountState.keepConsentBook(patient.id, book.n);
  const current = signed.filter(
    (c) =>
      c.withdrawnAt === undefined &&
      c.seq >= (book.minSeq[`${c.subject.kind}:${c.subject.id}`] ?? 0),
  );
  const valid = current
    .filter((c) => c.subject.kind === 'person')
    .map((c) => ({ userId: c.subject.id, fingerprint: c.subject.fingerprint }));
  const teams = myTeams
    .filter((t) =>
      current.some(
        (c) =>
          c.subject.kind === 'team' &&
          c.subject.id === t.teamId &&
          c.subject.genesis === t.genesis &&
          c.subject.fingerprint === t.root.fingerprint,
      ),
    )
    .map((t) => t.teamId);
  return {
    mine:
      valid.some((v) => v.userId === deps.me.id && v.fingerprint === deps.key.fingerprint) ||
      teams.length > 0,
    carers: valid.filter((v) => v.userId !== deps.me.id),
    teams,
  };
}
