import { Schema, type Connection, type Model } from 'mongoose';
import { LONG_OPERATION } from '../../lib/db';
import { modelOn } from '../../lib/model';
import { idLinkSchema, type IdLists } from '../../lib/store';
import type { Logger } from 'pino';

/**
 * The latest consent statement a patient signed about one subject (DESIGN §13), `_id`
 * `<patientId>:<subjectId>` (`<patientId>:team:<teamId>` for a care team) so a write checks it
 * with one `_id` read (DESIGN §9). The other
 * fields are what the server read from the verified statement.
 */
export interface ConsentDoc {
  _id: string;
  patientId: string;
  subjectKind: 'person' | 'team';
  subjectId: string;
  /** A person's registered key, or a team's root admin key. */
  fingerprint: string;
  /** A team only: the genesis (creation statement hash) the consent names. */
  genesis?: string;
  seq: number;
  since: Date;
  withdrawnAt?: Date;
  /** The armored statement signed by the patient, served so clients verify it themselves. */
  signedConsent: string;
  updatedAt: Date;
}

const consentSchema = new Schema<ConsentDoc>(
  {
    _id: { type: String, required: true },
    patientId: { type: String, required: true },
    subjectKind: { type: String, required: true, enum: ['person', 'team'] },
    subjectId: { type: String, required: true },
    fingerprint: { type: String, required: true },
    genesis: { type: String },
    seq: { type: Number, required: true },
    since: { type: Date, required: true },
    withdrawnAt: { type: Date },
    signedConsent: { type: String, required: true },
    updatedAt: { type: Date, required: true },
  },
  { versionKey: false, strict: 'throw' },
);

export const consentId = (patientId: string, subjectId: string) => `${patientId}:${subjectId}`;
/** A team's consent has its own `_id` space, so a team id can never stand for a person's. */
export const teamConsentId = (patientId: string, teamId: string) => `${patientId}:team:${teamId}`;

export const consentModel = (c: Connection) => modelOn(c, 'Consent', consentSchema, 'consents');

/**
 * The consents of a patient (key `patient:<patientId>`, every kind) and those naming a person
 * (key `subject:<userId>`), as `_id`-addressed lists (lib/store.ts IdLists; DESIGN §9: a query
 * by `patientId` or `subjectId` read every consent on FerretDB v1). A consent is listed before
 * it is first stored; lists only name consent `_id`s to read, the documents say the rest.
 */
export const consentListModel = (c: Connection) =>
  modelOn(c, 'ConsentList', idLinkSchema, 'consent_lists');

export const patientListKey = (patientId: string) => `patient:${patientId}`;
export const subjectListKey = (userId: string) => `subject:${userId}`;

/** The lists a consent is in. */
export function listKeysOf(
  doc: Pick<ConsentDoc, 'patientId' | 'subjectKind' | 'subjectId'>,
): string[] {
  return [
    patientListKey(doc.patientId),
    ...(doc.subjectKind === 'person' ? [subjectListKey(doc.subjectId)] : []),
  ];
}

/** Lists every consent stored before the lists existed. Idempotent. One scan of the consents. */
export async function migrateConsentLists(input: {
  consents: Model<ConsentDoc>;
  lists: IdLists;
  logger: Logger;
}): Promise<number> {
  const docs = await input.consents
    .find({}, { patientId: 1, subjectKind: 1, subjectId: 1 }, LONG_OPERATION)
    .lean();
  let added = 0;
  for (const doc of docs) {
    const keys = listKeysOf(doc);
    const missing = (
      await Promise.all(
        keys.map(async (key) => ((await input.lists.idsOf(key)).includes(doc._id) ? [] : [key])),
      )
    ).flat();
    await input.lists.add(missing, doc._id);
    added += missing.length;
  }
  if (added > 0) input.logger.info({ added }, 'consent lists: consents listed');
  return added;
}
