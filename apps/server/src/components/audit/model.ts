import { Schema, type Connection } from 'mongoose';
import type { AuditAction } from '@medseal/contract';
import { modelOn } from '../../lib/model';

/**
 * One link of a record's audit chain. `_id` is `<recordId>:<seq>`, so two writers racing
 * for the same position cannot both win (a unique `_id` is the cheapest unique check on
 * every engine), and a chain is read by its `_id`s (its end found by lookups): the `_id` index is
 * the only one, which every event insert, on the read path, has to keep up. `ownerId` (the
 * same on every event of a chain) lets the owner read the trail after the record is deleted.
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

/** The `_id` of event `seq` of a record's chain (1 is its creation). */
export const eventId = (recordId: string, seq: number) => `${recordId}:${seq}`;

export function auditModel(connection: Connection) {
  return modelOn(connection, 'AuditEvent', auditSchema, 'audit_events');
}

/**
 * The last checkpoint a record's owner signed of its trail (DESIGN §12 "Audit"), `_id` =
 * record id: clients check the trail extends it. `length` and `head` are what the signed
 * statement says (checked on the way in); a shorter one never replaces a longer one.
 */
export interface AuditCheckpointDoc {
  _id: string;
  ownerId: string;
  length: number;
  head: string;
  signed: string;
  at: Date;
}

const checkpointSchema = new Schema<AuditCheckpointDoc>(
  {
    _id: { type: String, required: true },
    ownerId: { type: String, required: true },
    length: { type: Number, required: true },
    head: { type: String, required: true },
    signed: { type: String, required: true },
    at: { type: Date, required: true },
  },
  { versionKey: false, strict: 'throw' },
);

export function auditCheckpointModel(connection: Connection) {
  return modelOn(connection, 'AuditCheckpoint', checkpointSchema, 'audit_checkpoints');
}
