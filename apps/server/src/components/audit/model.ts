import { Schema, type Connection } from 'mongoose';
import type { AuditAction } from '@medseal/contract';
import { modelOn } from '../../lib/model';

/** One link of a record's audit chain. `ownerId` lets the owner read it after deletion. */
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
    ownerId: { type: String, required: true, index: true },
    seq: { type: Number, required: true },
    actorId: { type: String, required: true },
    action: { type: String, required: true },
    at: { type: Date, required: true },
    prevHash: { type: String, required: true },
    hash: { type: String, required: true },
  },
  { versionKey: false, strict: 'throw' },
);
// One event per position: two writers racing for the same seq cannot both win.
auditSchema.index({ recordId: 1, seq: 1 }, { unique: true });

export function auditModel(connection: Connection) {
  return modelOn(connection, 'AuditEvent', auditSchema, 'audit_events');
}
