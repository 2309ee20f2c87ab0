import { Schema, type Connection } from 'mongoose';
import { modelOn } from '../../lib/model';

/**
 * A login session; only the SHA-256 of its token is stored (DESIGN §4). The hash is the
 * `_id`, so the lookup on every request is a primary-key read; `publicId` names the session
 * in the "my sessions" list.
 */
export interface SessionDoc {
  _id: string;
  publicId: string;
  userId: string;
  createdAt: Date;
  /** Checked on every request (no TTL index on FerretDB v1). */
  expiresAt: Date;
  userAgent?: string;
}

const sessionSchema = new Schema<SessionDoc>(
  {
    _id: { type: String, required: true },
    publicId: { type: String, required: true, unique: true },
    userId: { type: String, required: true, index: true },
    createdAt: { type: Date, required: true },
    expiresAt: { type: Date, required: true, index: true },
    userAgent: { type: String },
  },
  { versionKey: false, strict: 'throw' },
);

/** A one-time recovery challenge. */
export interface ChallengeDoc {
  _id: string;
  userId: string;
  challenge: string;
  expiresAt: Date;
}

const challengeSchema = new Schema<ChallengeDoc>(
  {
    _id: { type: String, required: true },
    userId: { type: String, required: true, index: true },
    challenge: { type: String, required: true },
    expiresAt: { type: Date, required: true, index: true },
  },
  { versionKey: false, strict: 'throw' },
);

export function sessionModel(connection: Connection) {
  return modelOn(connection, 'Session', sessionSchema, 'sessions');
}
export function challengeModel(connection: Connection) {
  return modelOn(connection, 'Challenge', challengeSchema, 'recovery_challenges');
}
