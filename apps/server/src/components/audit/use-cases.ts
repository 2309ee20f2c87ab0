import type { AuditEvent, AuditTrailResponse } from '@medseal/contract';
import type { Services } from '../../services';
import { chainFilter, type AuditDoc } from './model';
import { verifyAuditChain } from './chain';
import type { AuditInput } from './log';

function toEvent(d: AuditDoc): AuditEvent {
  return { recordId: d.recordId, seq: d.seq, actorId: d.actorId, action: d.action, at: d.at.toISOString(), prevHash: d.prevHash, hash: d.hash };
}

/** Appends one event to a record's chain (AuditLog); settles once it is stored. */
export function appendAudit(s: Services, input: AuditInput): Promise<void> {
  return s.auditLog.append([input]);
}

/** Appends one event to each of several records' chains (the list reads up to 100 at once). */
export function appendAuditMany(s: Services, inputs: AuditInput[]): Promise<void> {
  return s.auditLog.append(inputs);
}

/** The owner's view of one record's trail (also after deletion), with the chain check. */
export async function recordAudit(s: Services, recordId: string): Promise<AuditTrailResponse> {
  const docs = await s.models.audit.find(chainFilter(recordId)).lean();
  docs.sort((a, b) => a.seq - b.seq);
  const events = docs.map(toEvent);
  return { events, verification: verifyAuditChain(events) };
}
