import { createHash } from 'node:crypto';
import type { AuditAction, AuditEvent, AuditVerification } from '@medseal/contract';

/** prevHash of the first event of a chain. */
export const GENESIS_HASH = '0'.repeat(64);

/**
 * SHA-256 over the canonical (fixed key order, versioned) event with its prevHash, so
 * changing, removing or reordering any stored event breaks every later link (DESIGN §8).
 */
export function eventHash(e: { recordId: string; seq: number; actorId: string; action: AuditAction; at: string; prevHash: string }): string {
  const canonical = JSON.stringify(['medseal/v1/audit', e.recordId, e.seq, e.actorId, e.action, e.at, e.prevHash]);
  return createHash('sha256').update(canonical).digest('hex');
}

/**
 * Checks a record's chain, events in seq order: numbering without gaps from 1, each
 * prevHash equal to the previous hash, each hash recomputed. Returns the first broken seq.
 */
export function verifyAuditChain(events: readonly AuditEvent[]): AuditVerification {
  let prev = GENESIS_HASH;
  for (let i = 0; i < events.length; i++) {
    const e = events[i];
    if (!e) break;
    if (e.seq !== i + 1 || e.prevHash !== prev || eventHash(e) !== e.hash) return { status: 'broken', seq: i + 1 };
    prev = e.hash;
  }
  return { status: 'intact' };
}
