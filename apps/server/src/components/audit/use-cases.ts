import type { AuditEvent, AuditTrailResponse } from '@medseal/contract';
import { AppError } from '../../lib/errors';
import { checkAuditChain, checkAuditCheckpoint } from '../../lib/pgp';
import { withClaim } from '../../lib/claims';
import { isDuplicateKey } from '../../lib/db';
import type { Services } from '../../services';
import { chainIds, findByIds } from '../../lib/store';
import { eventId, type AuditDoc } from './model';
import type { AuditInput } from './log';

function toEvent(d: AuditDoc): AuditEvent {
  return {
    recordId: d.recordId,
    seq: d.seq,
    actorId: d.actorId,
    action: d.action,
    at: d.at.toISOString(),
    prevHash: d.prevHash,
    hash: d.hash,
  };
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

/**
 * Who owns the record's trail (the owner its first event names), or undefined when it has none:
 * a trail outlives its record (delete) and keeps its id from being taken over. By `_id`.
 */
export async function trailOwnerOf(s: Services, recordId: string): Promise<string | undefined> {
  return (await s.models.audit.findById(eventId(recordId, 1), { ownerId: 1 }).lean())?.ownerId;
}

/** True when the record's trail ends with its deletion (a delete finished again adds none). */
export async function trailEndsDeleted(s: Services, recordId: string): Promise<boolean> {
  const length = await s.auditLog.length(recordId);
  return (
    length > 0 &&
    (await s.models.audit.findById(eventId(recordId, length), { action: 1 }).lean())?.action ===
      'delete'
  );
}

/**
 * The owner's view of one record's trail (also after deletion), with the server's own chain
 * check and the last checkpoint the owner signed (the client checks both itself).
 */
export async function recordAudit(s: Services, recordId: string): Promise<AuditTrailResponse> {
  const [docs, checkpoint] = await Promise.all([
    trailOf(s, recordId),
    s.models.auditCheckpoints.findById(recordId, { signed: 1 }).lean(),
  ]);
  const events = docs.map(toEvent);
  const chain = checkAuditChain(recordId, events);
  return {
    events,
    verification: chain.status === 'intact' ? { status: 'intact' } : chain,
    checkpoint: checkpoint?.signed ?? null,
  };
}

const older = () =>
  new AppError({
    status: 409,
    code: 'checkpoint-older',
    message: 'A checkpoint at least as long is already stored for this trail.',
  });

/**
 * Stores the owner's signed checkpoint of a record's trail: signed by the owner's key, for this
 * record, naming the hash the stored chain has at that length; kept only when longer than the
 * stored one (a checkpoint is never shortened). The same checkpoint again is a no-op.
 *
 * @throws AppError 400 `bad-checkpoint`, 409 `checkpoint-mismatch` (not this trail's hash at
 *   that length), 409 `checkpoint-older`.
 */
export async function putAuditCheckpoint(
  s: Services,
  input: { recordId: string; ownerId: string; signedCheckpoint: string },
): Promise<void> {
  const { recordId, ownerId, signedCheckpoint } = input;
  const owner = await s.models.users.findById(ownerId, { publicKey: 1 }).lean();
  if (!owner)
    throw new AppError({ status: 401, code: 'unauthenticated', message: 'Log in first.' });
  const checkpoint = await checkAuditCheckpoint({
    signedCheckpoint,
    ownerPublicKey: owner.publicKey,
  });
  if (checkpoint.recordId !== recordId) {
    throw new AppError({
      status: 400,
      code: 'bad-checkpoint',
      message: 'The checkpoint is signed for another record.',
    });
  }
  const [event, stored] = await Promise.all([
    s.models.audit.findById(eventId(recordId, checkpoint.length), { hash: 1 }).lean(),
    s.models.auditCheckpoints.findById(recordId, { length: 1 }).lean(),
  ]);
  if (event?.hash !== checkpoint.head) {
    throw new AppError({
      status: 409,
      code: 'checkpoint-mismatch',
      message: 'The checkpoint does not name this trail’s event at that length.',
    });
  }
  const doc = {
    ownerId,
    length: checkpoint.length,
    head: checkpoint.head,
    signed: signedCheckpoint,
    at: new Date(),
  };
  if (!stored) {
    try {
      await s.models.auditCheckpoints.create({ _id: recordId, ...doc });
    } catch (error) {
      if (isDuplicateKey(error)) throw older();
      throw error;
    }
    return;
  }
  if (stored.length === checkpoint.length) return;
  if (stored.length > checkpoint.length) throw older();
  // A compare-and-set from the length read (lib/claims.ts: FerretDB v1 lets two filtered updates both match).
  const unchanged = async () =>
    (await s.models.auditCheckpoints.findById(recordId, { length: 1 }).lean())?.length ===
    stored.length;
  const result = await withClaim(
    s,
    `audit_checkpoints:${recordId}:${stored.length}`,
    unchanged,
    () =>
      s.models.auditCheckpoints.updateOne({ _id: recordId, length: stored.length }, { $set: doc }),
  );
  if (result?.matchedCount !== 1) throw older();
}
