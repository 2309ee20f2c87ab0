import {
  NO_CONSENT_CODE,
  type ConsentDto,
  type ConsentListResponse,
  type PutConsentRequest,
} from '@medseal/contract';
import { withClaim } from '../../lib/claims';
import { isDuplicateKey } from '../../lib/db';
import { AppError } from '../../lib/errors';
import { checkConsent } from '../../lib/pgp';
import type { Services } from '../../services';
import { isTeamMember, teamForRecords } from '../teams/use-cases';
import { findByIds } from '../../lib/store';
import {
  consentId,
  listKeysOf,
  patientListKey,
  subjectListKey,
  teamConsentId,
  type ConsentDoc,
} from './model';

const notFound = () =>
  new AppError({ status: 404, code: 'consent-not-found', message: 'No such consent.' });
const conflict = () =>
  new AppError({
    status: 409,
    code: 'version-conflict',
    message: 'Another statement about this person was stored meanwhile; reload and try again.',
  });

function toConsentDto(c: ConsentDoc): ConsentDto {
  return {
    patientId: c.patientId,
    subjectKind: c.subjectKind,
    subjectId: c.subjectId,
    fingerprint: c.fingerprint,
    ...(c.genesis !== undefined ? { genesis: c.genesis } : {}),
    seq: c.seq,
    since: c.since.toISOString(),
    ...(c.withdrawnAt ? { withdrawnAt: c.withdrawnAt.toISOString() } : {}),
    signedConsent: c.signedConsent,
  };
}

type ConsentState = Pick<ConsentDoc, 'subjectKind' | 'fingerprint' | 'withdrawnAt'>;

/** True when `doc` is a current consent of this kind (naming the key `fingerprint`, when given). */
function isCurrent(
  doc: ConsentState | null,
  kind: ConsentDoc['subjectKind'],
  fingerprint?: string,
): doc is ConsentState {
  return (
    doc !== null &&
    doc.subjectKind === kind &&
    doc.withdrawnAt === undefined &&
    (fingerprint === undefined || doc.fingerprint === fingerprint)
  );
}

/** The consents a list names (each once; a consent listed but never stored is skipped). */
async function listedConsents(s: Services, key: string): Promise<ConsentDoc[]> {
  const ids = await s.consentLists.idsOf(key);
  const found = await findByIds(s.models.consents, ids);
  return ids.flatMap((id) => found.get(id) ?? []);
}

async function patientKeyOf(s: Services, callerId: string): Promise<string> {
  const patient = await s.models.users.findById(callerId, { role: 1, publicKey: 1 }).lean();
  if (patient?.role !== 'patient')
    throw new AppError({
      status: 403,
      code: 'forbidden',
      message: 'Only a patient gives consent to write for her.',
    });
  return patient.publicKey;
}

const onlyHerself = () =>
  new AppError({
    status: 403,
    code: 'forbidden',
    message: 'Only the patient herself gives or withdraws her consent.',
  });

/**
 * Stores the patient's consent to write for a doctor, or its withdrawal (DESIGN §13). Only the
 * patient herself; checked with her registered key for the doctor's registered fingerprint and
 * a `seq` above the stored one; the insert of a new `_id` or a claim (lib/claims.ts) makes a
 * race between two statements a 409, never a silent overwrite by the older one.
 *
 * @throws AppError 403 `forbidden`, 404 `user-not-found`, 400 `subject-not-doctor` and the
 *   statement codes of `checkConsent`, 409 `consent-replayed` / `version-conflict`.
 */
export async function putConsent(
  s: Services,
  callerId: string,
  params: { patientId: string; subjectId: string },
  body: PutConsentRequest,
): Promise<ConsentDto> {
  if (params.patientId !== callerId) throw onlyHerself();
  const [patientKey, subject] = await Promise.all([
    patientKeyOf(s, callerId),
    s.models.users.findById(params.subjectId, { role: 1, fingerprint: 1 }).lean(),
  ]);
  if (!subject)
    throw new AppError({ status: 404, code: 'user-not-found', message: 'No such user.' });
  if (subject.role !== 'doctor')
    throw new AppError({
      status: 400,
      code: 'subject-not-doctor',
      message: 'Only a doctor may be allowed to write for a patient.',
    });
  return storeConsent(s, {
    id: consentId(callerId, params.subjectId),
    signedConsent: body.signedConsent,
    patientKey,
    expect: {
      patientId: callerId,
      subject: { kind: 'person', id: params.subjectId, fingerprint: subject.fingerprint },
    },
  });
}

/**
 * Stores the patient's consent to write for a care team, or its withdrawal (DESIGN §13,
 * docs/care-teams.md): the statement must name the team's id, genesis and root admin key as the
 * team's settled statements give them. Any current member may then write for her.
 *
 * @throws AppError 403 `forbidden`, 404 `team-not-found` and the codes of putConsent.
 */
export async function putTeamConsent(
  s: Services,
  callerId: string,
  params: { patientId: string; teamId: string },
  body: PutConsentRequest,
): Promise<ConsentDto> {
  if (params.patientId !== callerId) throw onlyHerself();
  const [patientKey, team] = await Promise.all([
    patientKeyOf(s, callerId),
    teamForRecords(s, params.teamId),
  ]);
  if (!team) throw new AppError({ status: 404, code: 'team-not-found', message: 'No such team.' });
  return storeConsent(s, {
    id: teamConsentId(callerId, params.teamId),
    signedConsent: body.signedConsent,
    patientKey,
    expect: {
      patientId: callerId,
      subject: {
        kind: 'team',
        id: params.teamId,
        fingerprint: team.state.root.fingerprint,
        genesis: team.state.genesis,
      },
    },
  });
}

/** Checks a statement against what the server knows and stores it as the latest (putConsent). */
async function storeConsent(
  s: Services,
  input: {
    id: string;
    signedConsent: string;
    patientKey: string;
    expect: Omit<Parameters<typeof checkConsent>[0]['expect'], 'minSeq'>;
  },
): Promise<ConsentDto> {
  const { id, expect } = input;
  const stored = await s.models.consents.findById(id).lean();
  const consent = await checkConsent({
    signedConsent: input.signedConsent,
    patientPublicKey: input.patientKey,
    expect: { ...expect, minSeq: (stored?.seq ?? 0) + 1 },
  });
  const doc: ConsentDoc = {
    _id: id,
    patientId: expect.patientId,
    subjectKind: expect.subject.kind,
    subjectId: expect.subject.id,
    fingerprint: consent.subject.fingerprint,
    ...(consent.subject.genesis !== undefined ? { genesis: consent.subject.genesis } : {}),
    seq: consent.seq,
    since: new Date(consent.since),
    ...(consent.withdrawnAt ? { withdrawnAt: new Date(consent.withdrawnAt) } : {}),
    signedConsent: input.signedConsent,
    updatedAt: new Date(),
  };
  if (!stored) {
    // Listed first: a consent stored but not listed would be missing from her list.
    await s.consentLists.add(listKeysOf(doc), id);
    try {
      await s.models.consents.create(doc);
    } catch (error) {
      if (isDuplicateKey(error)) throw conflict();
      throw error;
    }
    return toConsentDto(doc);
  }
  const unchanged = async () =>
    (await s.models.consents.findById(id, { seq: 1 }).lean())?.seq === stored.seq;
  const { _id, withdrawnAt, ...fields } = doc;
  // The claim of the move from the stored statement (not of the new `seq`): two statements based
  // on the same one never update at once (FerretDB v1 can let both filtered updates match).
  const result = await withClaim(s, `consents:${id}:${stored.seq + 1}`, unchanged, () =>
    s.models.consents.updateOne(
      { _id, seq: stored.seq },
      withdrawnAt
        ? { $set: { ...fields, withdrawnAt } }
        : { $set: fields, $unset: { withdrawnAt: 1 } },
    ),
  );
  if (result?.matchedCount !== 1) throw conflict();
  return toConsentDto(doc);
}

/**
 * Whether `callerId` writes for the patient now: her current consent names him in person, or a
 * care team he is a current member of (by its settled statements). `docs`, when the caller has
 * them, are her consents already read.
 */
async function isCurrentCarer(
  s: Services,
  patientId: string,
  callerId: string,
  docs?: readonly ConsentDoc[],
): Promise<boolean> {
  if (
    isCurrent(
      await s.models.consents
        .findById(consentId(patientId, callerId), {
          subjectKind: 1,
          fingerprint: 1,
          withdrawnAt: 1,
        })
        .lean(),
      'person',
    )
  )
    return true;
  const teams = (docs ?? (await listedConsents(s, patientListKey(patientId)))).filter((d) =>
    isCurrent(d, 'team'),
  );
  for (const t of teams) if (await isTeamMember(s, t.subjectId, callerId)) return true;
  return false;
}

/**
 * A patient's latest statements, withdrawals included: for herself, and for a doctor she
 * currently consents to, in person or through a team he is a member of (her other carers, whose
 * notes he co-reads). Carers get the withdrawals too: each statement carries her consent book,
 * so her newest one is what lets them refuse a withdrawn consent the server replays
 * (docs/decisions.md). Nobody else learns whom she consented to.
 * @throws AppError 404 `consent-not-found`.
 */
export async function listConsents(
  s: Services,
  callerId: string,
  patientId: string,
): Promise<ConsentListResponse> {
  const docs = (await listedConsents(s, patientListKey(patientId))).sort((a, b) =>
    a._id < b._id ? -1 : a._id > b._id ? 1 : 0,
  );
  if (callerId !== patientId && !(await isCurrentCarer(s, patientId, callerId, docs)))
    throw notFound();
  return { consents: docs.map(toConsentDto) };
}

/**
 * One consent to a person: for the patient and its subject as stored; for her other current
 * carers only while it is current. @throws AppError 404 `consent-not-found`.
 */
export async function getConsent(
  s: Services,
  callerId: string,
  params: { patientId: string; subjectId: string },
): Promise<ConsentDto> {
  const doc = await s.models.consents
    .findById(consentId(params.patientId, params.subjectId))
    .lean();
  if (!doc) throw notFound();
  if (callerId === params.patientId || callerId === params.subjectId) return toConsentDto(doc);
  if (!isCurrent(doc, doc.subjectKind) || !(await isCurrentCarer(s, params.patientId, callerId)))
    throw notFound();
  return toConsentDto(doc);
}

/**
 * Refuses a write for `patientId` by `writer` unless the patient's current consent names the
 * writer's registered key (DESIGN §13, issue 10 class 11), or names one of `teams` (the care
 * teams the write goes through) whose settled statements have the writer as a current member
 * with that same key: a self-declared doctor, one whose consent was withdrawn or names a key
 * they no longer have, or a member who left, writes for no one. Fails closed: a team whose
 * state cannot be settled gives nothing.
 * @throws AppError 403 `no-consent`.
 */
export async function requireConsent(
  s: Services,
  patientId: string,
  writer: { id: string; fingerprint: string },
  teams: readonly string[] = [],
): Promise<void> {
  const fields = { subjectKind: 1, fingerprint: 1, genesis: 1, withdrawnAt: 1 };
  if (
    isCurrent(
      await s.models.consents.findById(consentId(patientId, writer.id), fields).lean(),
      'person',
      writer.fingerprint,
    )
  )
    return;
  for (const teamId of new Set(teams)) {
    const doc = await s.models.consents.findById(teamConsentId(patientId, teamId), fields).lean();
    if (!isCurrent(doc, 'team')) continue;
    const team = await teamForRecords(s, teamId);
    const member = team?.state.members.find((m) => m.userId === writer.id);
    if (
      team &&
      member?.fingerprint === writer.fingerprint &&
      doc.genesis === team.state.genesis &&
      doc.fingerprint === team.state.root.fingerprint
    )
      return;
  }
  throw new AppError({
    status: 403,
    code: NO_CONSENT_CODE,
    message:
      'The patient has not consented to you (or a team of yours) writing for her, or withdrew it.',
  });
}

/** The people `userId` has a current consent with, either way (the directory's connections). */
export async function consentPartnersOf(s: Services, userId: string): Promise<string[]> {
  const docs = (
    await Promise.all(
      [patientListKey(userId), subjectListKey(userId)].map((key) => listedConsents(s, key)),
    )
  ).flat();
  return docs
    .filter((d) => isCurrent(d, 'person'))
    .map((d) => (d.patientId === userId ? d.subjectId : d.patientId));
}
