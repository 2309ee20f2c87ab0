import { Schema, type Connection } from 'mongoose';
import type { AuditAction } from '@medseal/contract';
import { modelOn } from '../../lib/model';

/**
 * One link of a record's audit chain. `_id` is `<recordId>:<seq>`, so two writers racing
 * for the same position cannot both win (a unique `_id` is the cheapest unique check on
 * every engine). `ownerId` lets the owner read the trail after the record is deleted.
 */
export interface AuditDoc {
  _id: string;
  recordId: string;
  ownerId: string;
  seq: number;
  actorId: string;
  action: AuditAction;
  at: Date;
  prevHash: string;
  hash: string;
}

const auditSchema = new Schema<AuditDoc>(
  {
    _id: { type: String, required: true },
    recordId: { type: String, required: true },
    ownerId: { type: String, required: true },
    seq: { type: Number, required: true },
    actorId: { type: String, required: true },
    action: { type: String, required: true },
    at: { type: Date, required: true },
    prevHash: { type: String, required: true },
    hash: { type: String, required: true },
  },
  { versionKey: false, strict: 'throw' },
);
// The trail (by recordId, in seq order) and the owner check ({recordId, ownerId}) use this one.
auditSchema.index({ recordId: 1, seq: 1 }, { unique: true });

export function auditModel(connection: Connection) {
  return modelOn(connection, 'AuditEvent', auditSchema, 'audit_events');
}
