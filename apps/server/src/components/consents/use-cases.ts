import { NO_CONSENT_CODE, type ConsentDto, type ConsentListResponse, type PutConsentRequest } from '@medseal/contract';
import { withClaim } from '../../lib/claims';
import { isDuplicateKey } from '../../lib/db';
import { AppError } from '../../lib/errors';
import { checkConsent } from '../../lib/pgp';
import type { Services } from '../../services';
import { consentId, type ConsentDoc } from './model';

const notFound = () => new AppError({ status: 404, code: 'consent-not-found', message: 'No such consent.' });
const conflict = () => new AppError({ status: 409, code: 'version-conflict', message: 'Another statement about this person was stored meanwhile; reload and try again.' });

function toConsentDto(c: ConsentDoc): ConsentDto {
  return {
    patientId: c.patientId,
    subjectKind: c.subjectKind,
    subjectId: c.subjectId,
    fingerprint: c.fingerprint,
    seq: c.seq,
    since: c.since.toISOString(),
    ...(c.withdrawnAt ? { withdrawnAt: c.withdrawnAt.toISOString() } : {}),
    signedConsent: c.signedConsent,
  };
}

/** True when `doc` lets its subject, with the key `fingerprint`, write for the patient now. */
function isCurrent(doc: Pick<ConsentDoc, 'subjectKind' | 'fingerprint' | 'withdrawnAt'> | null, fingerprint?: string): boolean {
  return doc !== null && doc.subjectKind === 'person' && doc.withdrawnAt === undefined && (fingerprint === undefined || doc.fingerprint === fingerprint);
}

/**
 * Stores the patient's consent to write for a doctor, or its withdrawal (DESIGN §13). Only the
 * patient herself; checked with her registered key for the doctor's registered fingerprint and
 * a `seq` above the stored one; the insert of a new `_id` or a claim (lib/claims.ts) makes a
 * race between two statements a 409, never a silent overwrite by the older one.
 *
 * @throws AppError 403 `forbidden`, 404 `user-not-found`, 400 `subject-not-doctor` and the
 *   statement codes of `checkConsent`, 409 `consent-replayed` / `version-conflict`.
 */
export async function putConsent(s: Services, callerId: string, params: { patientId: string; subjectId: string }, body: PutConsentRequest): Promise<ConsentDto> {
  if (params.patientId !== callerId) throw new AppError({ status: 403, code: 'forbidden', message: 'Only the patient herself gives or withdraws her consent.' });
  const [patient, subject] = await Promise.all([
    s.models.users.findById(callerId, { role: 1, publicKey: 1 }).lean(),
    s.models.users.findById(params.subjectId, { role: 1, fingerprint: 1 }).lean(),
  ]);
  if (patient?.role !== 'patient') throw new AppError({ status: 403, code: 'forbidden', message: 'Only a patient gives consent to write for her.' });
  if (!subject) throw new AppError({ status: 404, code: 'user-not-found', message: 'No such user.' });
  if (subject.role !== 'doctor') throw new AppError({ status: 400, code: 'subject-not-doctor', message: 'Only a doctor may be allowed to write for a patient.' });
  const id = consentId(callerId, params.subjectId);
  const stored = await s.models.consents.findById(id).lean();
  const consent = await checkConsent({
    signedConsent: body.signedConsent,
    patientPublicKey: patient.publicKey,
    expect: { patientId: callerId, subject: { kind: 'person', id: params.subjectId, fingerprint: subject.fingerprint }, minSeq: (stored?.seq ?? 0) + 1 },
  });
  const doc: ConsentDoc = {
    _id: id,
    patientId: callerId,
    subjectKind: 'person',
    subjectId: params.subjectId,
    fingerprint: consent.subject.fingerprint,
    seq: consent.seq,
    since: new Date(consent.since),
    ...(consent.withdrawnAt ? { withdrawnAt: new Date(consent.withdrawnAt) } : {}),
    signedConsent: body.signedConsent,
    updatedAt: new Date(),
  };
  if (!stored) {
    try {
      await s.models.consents.create(doc);
    } catch (error) {
      if (isDuplicateKey(error)) throw conflict();
      throw error;
    }
    return toConsentDto(doc);
  }
  const unchanged = async () => (await s.models.consents.findById(id, { seq: 1 }).lean())?.seq === stored.seq;
  const { _id, withdrawnAt, ...fields } = doc;
  const result = await withClaim(s, `consents:${id}:${doc.seq}`, unchanged, () =>
    s.models.consents.updateOne({ _id, seq: stored.seq }, withdrawnAt ? { $set: { ...fields, withdrawnAt } } : { $set: fields, $unset: { withdrawnAt: 1 } }),
  );
  if (result?.matchedCount !== 1) throw conflict();
  return toConsentDto(doc);
}

/** The patient's consent to `subjectId`, when it lets them write now (an `_id` read). */
async function currentConsent(s: Services, patientId: string, subjectId: string): Promise<ConsentDoc | null> {
  const doc = await s.models.consents.findById(consentId(patientId, subjectId)).lean();
  return isCurrent(doc) ? doc : null;
}

/**
 * A patient's consents: all for herself; the current ones for a doctor she consented to (her
 * other carers, whose notes he co-reads); nobody else learns whom she consented to.
 * @throws AppError 404 `consent-not-found`.
 */
export async function listConsents(s: Services, callerId: string, patientId: string): Promise<ConsentListResponse> {
  const own = callerId === patientId;
  if (!own && !(await currentConsent(s, patientId, callerId))) throw notFound();
  // Not an `_id` read (a scan on FerretDB v1): only when a form or the contacts page opens.
  const docs = await s.models.consents.find({ patientId }).sort({ _id: 1 }).lean();
  return { consents: docs.filter((d) => own || isCurrent(d)).map(toConsentDto) };
}

/**
 * One consent: for the patient and its subject as stored; for her other current carers only
 * while it is current. @throws AppError 404 `consent-not-found`.
 */
export async function getConsent(s: Services, callerId: string, params: { patientId: string; subjectId: string }): Promise<ConsentDto> {
  const doc = await s.models.consents.findById(consentId(params.patientId, params.subjectId)).lean();
  if (!doc) throw notFound();
  if (callerId === params.patientId || callerId === params.subjectId) return toConsentDto(doc);
  if (!isCurrent(doc) || !(await currentConsent(s, params.patientId, callerId))) throw notFound();
  return toConsentDto(doc);
}

/**
 * Refuses a write for `patientId` by `writer` unless the patient's current consent names the
 * writer's registered key (DESIGN §13, issue 10 class 11): a self-declared doctor, or one whose
 * consent was withdrawn or names a key they no longer have, writes for no one.
 * @throws AppError 403 `no-consent`.
 */
export async function requireConsent(s: Services, patientId: string, writer: { id: string; fingerprint: string }): Promise<void> {
  const doc = await s.models.consents.findById(consentId(patientId, writer.id), { subjectKind: 1, fingerprint: 1, withdrawnAt: 1 }).lean();
  if (!isCurrent(doc, writer.fingerprint)) {
    throw new AppError({ status: 403, code: NO_CONSENT_CODE, message: 'The patient has not consented to you writing for her (or withdrew it).' });
  }
}

/** The people `userId` has a current consent with, either way (the directory's connections). */
export async function consentPartnersOf(s: Services, userId: string): Promise<string[]> {
  const docs = await s.models.consents.find({ $or: [{ patientId: userId }, { subjectId: userId }] }, { patientId: 1, subjectId: 1, subjectKind: 1, fingerprint: 1, withdrawnAt: 1 }).lean();
  return docs.filter((d) => isCurrent(d)).map((d) => (d.patientId === userId ? d.subjectId : d.patientId));
}
