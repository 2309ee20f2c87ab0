import type { AuditAction, AuditEvent, AuditTrailResponse } from '@medseal/contract';
import { AppError } from '../../lib/errors';
import { newId } from '../../lib/ids';
import type { Services } from '../../services';
import type { AuditDoc } from './model';
import { eventHash, GENESIS_HASH, verifyAuditChain } from './chain';

function toEvent(d: AuditDoc): AuditEvent {
  return { recordId: d.recordId, seq: d.seq, actorId: d.actorId, action: d.action, at: d.at.toISOString(), prevHash: d.prevHash, hash: d.hash };
}

/**
 * Appends an event to the record's chain. The unique (recordId, seq) index serialises
 * concurrent appends without a transaction: the loser of a race re-reads the head and
 * tries again.
 */
export async function appendAudit(s: Services, input: { recordId: string; ownerId: string; actorId: string; action: AuditAction }): Promise<void> {
  for (let attempt = 0; attempt < 20; attempt++) {
    const head = await s.models.audit.find({ recordId: input.recordId }).sort({ seq: -1 }).limit(1).lean();
    const last = head[0];
    const seq = (last?.seq ?? 0) + 1;
    const prevHash = last?.hash ?? GENESIS_HASH;
    // Millisecond ISO time: what the hash covers is exactly what Date stores.
    const at = new Date();
    const hash = eventHash({ recordId: input.recordId, seq, actorId: input.actorId, action: input.action, at: at.toISOString(), prevHash });
    try {
      await s.models.audit.create({ _id: newId(), recordId: input.recordId, ownerId: input.ownerId, seq, actorId: input.actorId, action: input.action, at, prevHash, hash });
      return;
    } catch (error) {
      if ((error as { code?: number }).code !== 11000) throw error;
    }
  }
  throw new AppError({ status: 503, code: 'audit-busy', message: 'The audit trail is busy; try again.' });
}

/** The owner's view of one record's trail (also after deletion), with the chain check. */
export async function recordAudit(s: Services, recordId: string): Promise<AuditTrailResponse> {
  const docs = await s.models.audit.find({ recordId }).sort({ seq: 1 }).lean();
  const events = docs.map(toEvent);
  return { events, verification: verifyAuditChain(events) };
}
