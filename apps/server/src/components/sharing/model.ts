import { Schema, type Connection } from 'mongoose';
import { modelOn } from '../../lib/model';

/** An active grant; revoking deletes it (the audit trail keeps the revoke). */
export interface GrantDoc {
  _id: string;
  recordId: string;
  granteeId: string;
  granteeFingerprint: string;
  grantedBy: string;
  /** The armored grant signed by the sharer, served to readers so they can verify it. */
  signedGrant: string;
  at: Date;
  expiresAt?: Date;
}

const grantSchema = new Schema<GrantDoc>(
  {
    _id: { type: String, required: true },
    recordId: { type: String, required: true },
    granteeId: { type: String, required: true },
    granteeFingerprint: { type: String, required: true },
    grantedBy: { type: String, required: true },
    signedGrant: { type: String, required: true },
    at: { type: Date, required: true },
    expiresAt: { type: Date },
  },
  { versionKey: false, strict: 'throw' },
);
grantSchema.index({ recordId: 1, granteeId: 1 }, { unique: true });

/** A grant's `_id`: one grant per (record, grantee), found by primary key. */
export const grantId = (recordId: string, granteeId: string) => `${recordId}:${granteeId}`;

export const grantModel = (c: Connection) => modelOn(c, 'Grant', grantSchema, 'grants');

/**
 * A grant to a care team (DESIGN §13), signed by the sharer; revoking deletes it. `_id` =
 * `<recordId>:<teamId>` (a team id is never a user id: both are 128 random bits, and this is
 * another collection).
 */
export interface TeamGrantDoc {
  _id: string;
  recordId: string;
  teamId: string;
  grantedBy: string;
  signedGrant: string;
  at: Date;
  expiresAt?: Date;
}

const teamGrantSchema = new Schema<TeamGrantDoc>(
  {
    _id: { type: String, required: true },
    recordId: { type: String, required: true },
    teamId: { type: String, required: true },
    grantedBy: { type: String, required: true },
    signedGrant: { type: String, required: true },
    at: { type: Date, required: true },
    expiresAt: { type: Date },
  },
  { versionKey: false, strict: 'throw' },
);

export const teamGrantId = (recordId: string, teamId: string) => `${recordId}:${teamId}`;

export const teamGrantModel = (c: Connection) =>
  modelOn(c, 'TeamGrant', teamGrantSchema, 'team_grants');
