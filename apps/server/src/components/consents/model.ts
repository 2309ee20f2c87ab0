import { Schema, type Connection } from 'mongoose';
import { modelOn } from '../../lib/model';

/**
 * The latest consent statement a patient signed about one subject (DESIGN §13), `_id`
 * `<patientId>:<subjectId>` so a write checks it with one `_id` read (DESIGN §9). The other
 * fields are what the server read from the verified statement.
 */
export interface ConsentDoc {
  _id: string;
  patientId: string;
  subjectKind: 'person' | 'team';
  subjectId: string;
  fingerprint: string;
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
    patientId: { type: String, required: true, index: true },
    subjectKind: { type: String, required: true, enum: ['person', 'team'] },
    subjectId: { type: String, required: true, index: true },
    fingerprint: { type: String, required: true },
    seq: { type: Number, required: true },
    since: { type: Date, required: true },
    withdrawnAt: { type: Date },
    signedConsent: { type: String, required: true },
    updatedAt: { type: Date, required: true },
  },
  { versionKey: false, strict: 'throw' },
);

export const consentId = (patientId: string, subjectId: string) => `${patientId}:${subjectId}`;

export const consentModel = (c: Connection) => modelOn(c, 'Consent', consentSchema, 'consents');
