import type { AuditAction, AuditEvent, AuditTrailResponse } from '@medseal/contract';
import { AppError } from '../../lib/errors';
import type { Services } from '../../services';
import type { AuditDoc } from './model';
import { eventHash, GENESIS_HASH, verifyAuditChain } from './chain';

function toEvent(d: AuditDoc): AuditEvent {
  return { recordId: d.recordId, seq: d.seq, actorId: d.actorId, action: d.action, at: d.at.toISOString(), prevHash: d.prevHash, hash: d.hash };
}

/**
 * Appends an event to the record's chain without a transaction: read the head (by `_id`),
 * insert the event at `<recordId>:<seq+1>` (unique `_id`: the loser of a race retries),
 * then move the head on with a compare-and-set. A head left behind by a crash between the
 * two writes is repaired by the next append, which finds the event already there.
 *
 * @throws AppError 503 `audit-busy` after many lost races in a row.
 */
export async function appendAudit(s: Services, input: { recordId: string; ownerId: string; actorId: string; action: AuditAction }): Promise<void> {
  const heads = s.models.auditHeads;
  for (let attempt = 0; attempt < 40; attempt++) {
    // Jittered back-off after a lost race, so many readers of one record do not thrash.
    if (attempt > 0) await new Promise((r) => setTimeout(r, Math.random() * Math.min(50, 2 * attempt)));
    const head = await heads.findById(input.recordId).lean();
    const seq = (head?.seq ?? 0) + 1;
    const prevHash = head?.hash ?? GENESIS_HASH;
    // Millisecond ISO time: what the hash covers is exactly what Date stores.
    const at = new Date();
    const hash = eventHash({ recordId: input.recordId, seq, actorId: input.actorId, action: input.action, at: at.toISOString(), prevHash });
    try {
      await s.models.audit.create({ _id: `${input.recordId}:${seq}`, recordId: input.recordId, ownerId: input.ownerId, seq, actorId: input.actorId, action: input.action, at, prevHash, hash });
    } catch (error) {
      if ((error as { code?: number }).code !== 11000) throw error;
      await repairHead(s, input.recordId, seq);
      continue;
    }
    await moveHead(s, input.recordId, head?.seq, { seq, hash });
    return;
  }
  throw new AppError({ status: 503, code: 'audit-busy', message: 'The audit trail is busy; try again.' });
}

type AuditInput = { recordId: string; ownerId: string; actorId: string; action: AuditAction };

/**
 * Appends one event to each of several records' chains — for the list, which reads up to
 * 100 records at once — in rounds of three round trips (heads, one unordered insert, head
 * moves). Records whose position was taken by a concurrent writer go to the next round
 * after a jittered pause (from the second retry on, their head is repaired from the event
 * that took the position); after a few rounds the rest falls back to `appendAudit`.
 */
export async function appendAuditMany(s: Services, inputs: AuditInput[]): Promise<void> {
  let pending = inputs;
  for (let round = 0; round < 6 && pending.length > 0; round++) {
    if (round > 0) await new Promise((r) => setTimeout(r, Math.random() * (10 + 10 * round)));
    const lost = await appendRound(s, pending);
    if (round >= 1) await Promise.all(lost.map((l) => repairHead(s, l.input.recordId, l.seq)));
    pending = lost.map((l) => l.input);
  }
  for (const input of pending) await appendAudit(s, input);
}

const HEAD_MOVES_PER_WRITE = 50;

/** One round of appendAuditMany; returns the inputs that lost their position, with it. */
async function appendRound(s: Services, inputs: AuditInput[]): Promise<{ input: AuditInput; seq: number }[]> {
  const heads = await s.models.auditHeads.find({ _id: { $in: inputs.map((i) => i.recordId) } }).lean();
  const headOf = new Map(heads.map((h) => [h._id, h]));
  const at = new Date();
  const docs = inputs.map((input) => {
    const head = headOf.get(input.recordId);
    const seq = (head?.seq ?? 0) + 1;
    const prevHash = head?.hash ?? GENESIS_HASH;
    const hash = eventHash({ recordId: input.recordId, seq, actorId: input.actorId, action: input.action, at: at.toISOString(), prevHash });
    return { _id: `${input.recordId}:${seq}`, recordId: input.recordId, ownerId: input.ownerId, seq, actorId: input.actorId, action: input.action, at, prevHash, hash };
  });
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
  const moved = docs.filter((_, i) => !failed.has(i));
  // In slices of 50: FerretDB v1 never answered one bulk update of 100 upserts here (a list
  // page of 100 hung), while slices of 50 take milliseconds.
  for (let i = 0; i < moved.length; i += HEAD_MOVES_PER_WRITE) {
    await s.models.auditHeads
      .bulkWrite(
        moved.slice(i, i + HEAD_MOVES_PER_WRITE).map((d) => ({ updateOne: { filter: { _id: d.recordId, seq: { $lt: d.seq } }, update: { $set: { seq: d.seq, hash: d.hash } }, upsert: true } })),
        { ordered: false },
      )
      .catch((error: unknown) => {
        // A duplicate _id on upsert means the head is already further on: nothing to do.
        if (!duplicateIndexes(error)) throw error;
      });
  }
  return [...failed].flatMap((i) => {
    const input = inputs[i];
    const doc = docs[i];
    return input && doc ? [{ input, seq: doc.seq }] : [];
  });
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

async function moveHead(s: Services, recordId: string, fromSeq: number | undefined, to: { seq: number; hash: string }): Promise<void> {
  if (fromSeq === undefined) {
    try {
      await s.models.auditHeads.create({ _id: recordId, ...to });
    } catch (error) {
      if ((error as { code?: number }).code !== 11000) throw error;
      await s.models.auditHeads.updateOne({ _id: recordId, seq: { $lt: to.seq } }, { $set: to });
    }
    return;
  }
  await s.models.auditHeads.updateOne({ _id: recordId, seq: { $lt: to.seq } }, { $set: to });
}

/** Someone holds position `seq`: make sure the head is at least there. */
async function repairHead(s: Services, recordId: string, seq: number): Promise<void> {
  const event = await s.models.audit.findById(`${recordId}:${seq}`).lean();
  if (event) await moveHead(s, recordId, seq - 1, { seq: event.seq, hash: event.hash });
}

/** The owner's view of one record's trail (also after deletion), with the chain check. */
export async function recordAudit(s: Services, recordId: string): Promise<AuditTrailResponse> {
  const docs = await s.models.audit.find({ recordId }).sort({ seq: 1 }).lean();
  const events = docs.map(toEvent);
  return { events, verification: verifyAuditChain(events) };
}
