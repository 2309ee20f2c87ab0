import type { AuditEvent, AuditTrailResponse } from '@medseal/contract';
import type { Services } from '../../services';
import { chainIds, findByIds } from '../../lib/store';
import { eventId, type AuditDoc } from './model';
import { verifyAuditChain } from './chain';
import type { AuditInput } from './log';

function toEvent(d: AuditDoc): AuditEvent {
  return { recordId: d.recordId, seq: d.seq, actorId: d.actorId, action: d.action, at: d.at.toISOString(), prevHash: d.prevHash, hash: d.hash };
}

/** Appends one event to a record's chain (AuditLog); settles once it is stored. */
export function appendAudit(s: Services, input: AuditInput): Promise<void> {
  return s.auditLog.append([input]);
}

/**
 * The `read` events of a listed page (up to 250 records), each written unless this process
 * wrote the same reader's read of the same record less than LIST_READ_WINDOW_MS ago
 * (docs/decisions.md: listing is a read; repeated listing is not a new one each time).
 */
export function appendListReads(s: Services, inputs: AuditInput[]): Promise<void> {
  return s.auditLog.appendOncePer(inputs, LIST_READ_WINDOW_MS);
}

/** A reader listing the same record again within this time adds no second `read` event. */
export const LIST_READ_WINDOW_MS = 10 * 60 * 1000;

/**
 * A record's events in seq order, by `_id` (DESIGN §9): the chain's end by lookups, then the
 * events in `$in` queries. Events past a missing one are not found (the owner's signed
 * checkpoints catch a trail cut short, DESIGN §12).
 */
async function trailOf(s: Services, recordId: string): Promise<AuditDoc[]> {
  const ids = chainIds(recordId, 1, await s.auditLog.length(recordId));
  const found = await findByIds(s.models.audit, ids);
  return ids.flatMap((id) => found.get(id) ?? []);
}

/** True when the record's trail ends with its deletion (a delete finished again adds none). */
export async function trailEndsDeleted(s: Services, recordId: string): Promise<boolean> {
  const length = await s.auditLog.length(recordId);
  return length > 0 && (await s.models.audit.findById(eventId(recordId, length), { action: 1 }).lean())?.action === 'delete';
}

/** The owner's view of one record's trail (also after deletion), with the chain check. */
export async function recordAudit(s: Services, recordId: string): Promise<AuditTrailResponse> {
  const events = (await trailOf(s, recordId)).map(toEvent);
  return { events, verification: verifyAuditChain(events) };
}
