import type { AuditAction, AuditEvent, AuditTrailResponse } from '@medseal/contract';
import { AppError } from '../../lib/errors';
import type { Services } from '../../services';
import type { AuditDoc } from './model';
import { eventHash, GENESIS_HASH, verifyAuditChain } from './chain';

function toEvent(d: AuditDoc): AuditEvent {
  return { recordId: d.recordId, seq: d.seq, actorId: d.actorId, action: d.action, at: d.at.toISOString(), prevHash: d.prevHash, hash: d.hash };
}

/** The stored head may lag the chain by this many events before it is written again. */
const HEAD_LAG = 8;

interface Head {
  seq: number;
  hash: string;
  /** The seq the stored head document says (it may lag). */
  stored: number;
}

/**
 * The real end of a record's chain: the stored head (a hint, read by `_id`), then the
 * events after it, probed one by one by `_id`. Primary-key reads only: FerretDB v1 answers
 * other filters (even `$in` on `_id`) by scanning the collection.
 */
async function chainHead(s: Services, recordId: string): Promise<Head> {
  const stored = await s.models.auditHeads.findById(recordId).lean();
  const head: Head = { seq: stored?.seq ?? 0, hash: stored?.hash ?? GENESIS_HASH, stored: stored?.seq ?? 0 };
  for (;;) {
    const next = await s.models.audit.findById(`${recordId}:${head.seq + 1}`, { seq: 1, hash: 1 }).lean();
    if (!next) return head;
    head.seq = next.seq;
    head.hash = next.hash;
  }
}

/** Writes the head document when it lags too far (compare-and-set; a lost race is fine). */
async function maybeStoreHead(s: Services, recordId: string, stored: number, to: { seq: number; hash: string }): Promise<void> {
  if (to.seq - stored < HEAD_LAG) return;
  try {
    await s.models.auditHeads.updateOne({ _id: recordId, seq: { $lt: to.seq } }, { $set: to }, { upsert: true });
  } catch (error) {
    // Duplicate _id on upsert: the stored head is already further on.
    if ((error as { code?: number }).code !== 11000) throw error;
  }
}

function eventDoc(input: { recordId: string; ownerId: string; actorId: string; action: AuditAction }, head: Head, at: Date) {
  const seq = head.seq + 1;
  const hash = eventHash({ recordId: input.recordId, seq, actorId: input.actorId, action: input.action, at: at.toISOString(), prevHash: head.hash });
  return { _id: `${input.recordId}:${seq}`, recordId: input.recordId, ownerId: input.ownerId, seq, actorId: input.actorId, action: input.action, at, prevHash: head.hash, hash };
}

/**
 * Appends an event to the record's chain without a transaction: find the chain's end,
 * insert the event at `<recordId>:<seq+1>` — the unique `_id` means two racing writers
 * cannot both take a position; the loser retries after a jittered pause. One write per
 * event in the common case (the head document is only a hint, rewritten every few events).
 *
 * @throws AppError 503 `audit-busy` after many lost races in a row.
 */
export async function appendAudit(s: Services, input: { recordId: string; ownerId: string; actorId: string; action: AuditAction }): Promise<void> {
  for (let attempt = 0; attempt < 40; attempt++) {
    if (attempt > 0) await new Promise((r) => setTimeout(r, Math.random() * Math.min(50, 2 * attempt)));
    const head = await chainHead(s, input.recordId);
    // Millisecond ISO time: what the hash covers is exactly what Date stores.
    const doc = eventDoc(input, head, new Date());
    try {
      await s.models.audit.create(doc);
    } catch (error) {
      if ((error as { code?: number }).code !== 11000) throw error;
      continue;
    }
    await maybeStoreHead(s, input.recordId, head.stored, { seq: doc.seq, hash: doc.hash });
    return;
  }
  throw new AppError({ status: 503, code: 'audit-busy', message: 'The audit trail is busy; try again.' });
}

/**
 * Appends one event to each of several records' chains (the list reads up to 100 records
 * at once): ends found in parallel, one unordered insert for all; a record whose position
 * was taken meanwhile falls back to `appendAudit`.
 */
export async function appendAuditMany(s: Services, inputs: { recordId: string; ownerId: string; actorId: string; action: AuditAction }[]): Promise<void> {
  if (inputs.length === 0) return;
  const heads = await Promise.all(inputs.map((i) => chainHead(s, i.recordId)));
  const at = new Date();
  const docs = inputs.map((input, i) => eventDoc(input, heads[i] ?? { seq: 0, hash: GENESIS_HASH, stored: 0 }, at));
  const failed = new Set<number>();
  try {
    await s.models.audit.insertMany(docs, { ordered: false });
  } catch (error) {
    const duplicates = duplicateIndexes(error);
    if (!duplicates) throw error;
    // Without per-document detail, retry them all: a read recorded twice beats one not recorded.
    if (duplicates.length === 0) docs.forEach((_, i) => failed.add(i));
    for (const i of duplicates) failed.add(i);
  }
  await Promise.all(
    docs.map((d, i) => (failed.has(i) ? undefined : maybeStoreHead(s, d.recordId, heads[i]?.stored ?? 0, { seq: d.seq, hash: d.hash }))),
  );
  for (const i of failed) {
    const input = inputs[i];
    if (input) await appendAudit(s, input);
  }
}

interface WriteErrorLike {
  index?: number;
  code?: number;
  err?: { index?: number; code?: number };
}

/**
 * The positions of a bulk write that failed only with duplicate keys, or undefined when
 * any other error happened. Drivers and Mongoose report write errors either as WriteError
 * objects (getters) or as plain `{err: {index, code}}` objects.
 */
function duplicateIndexes(error: unknown): number[] | undefined {
  const raw = (error as { writeErrors?: WriteErrorLike[] | WriteErrorLike }).writeErrors;
  const list = Array.isArray(raw) ? raw : raw ? [raw] : [];
  if (list.length === 0) return (error as { code?: number }).code === 11000 ? [] : undefined;
  const out: number[] = [];
  for (const e of list) {
    const code = e.code ?? e.err?.code;
    const index = e.index ?? e.err?.index;
    if (code !== 11000 || index === undefined) return undefined;
    out.push(index);
  }
  return out;
}

/** The owner's view of one record's trail (also after deletion), with the chain check. */
export async function recordAudit(s: Services, recordId: string): Promise<AuditTrailResponse> {
  const docs = await s.models.audit.find({ recordId }).sort({ seq: 1 }).lean();
  const events = docs.map(toEvent);
  return { events, verification: verifyAuditChain(events) };
}
