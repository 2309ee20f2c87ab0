import type { Services } from '../../services';
import type { RecordDoc } from './model';

/** A claim whose writer died (the record never moved on) is taken back after this long. */
export const STALE_CLAIM_MS = 60_000;

/**
 * Writes the record change from `record.rev` to `rev + 1` only while holding the claim
 * `<recordId>:<rev + 1>`. Every change of a record (update, grant, revoke) bumps `rev` and
 * is filtered on it; the claim's unique `_id` makes sure only one writer based on a given
 * rev runs that write at a time. MongoDB's conditional update alone would do, but FerretDB
 * v1 lets two racing `updateOne({_id, rev})` both match, and then the later one silently
 * undoes the other (a grant based on a stale read could put back a user a revoke had just
 * taken off). The claim is removed when the write is done; one left by a writer that died
 * is removed by the next writer once the record is still at `rev` after STALE_CLAIM_MS.
 *
 * Returns what `write` returned, or `undefined` when another writer holds the claim (the
 * caller re-reads the record and tries again, or reports a conflict).
 */
export async function withRevClaim<T>(s: Services, record: Pick<RecordDoc, '_id' | 'rev'>, write: () => Promise<T>): Promise<T | undefined> {
  const claim = { _id: `${record._id}:${record.rev + 1}`, createdAt: new Date() };
  try {
    await s.models.revClaims.create(claim);
  } catch (error) {
    if ((error as { code?: number }).code !== 11000) throw error;
    if (!(await clearStaleClaim(s, record))) return undefined;
    try {
      await s.models.revClaims.create(claim);
    } catch (retryError) {
      if ((retryError as { code?: number }).code === 11000) return undefined;
      throw retryError;
    }
  }
  try {
    return await write();
  } finally {
    await s.models.revClaims.deleteOne({ _id: claim._id, createdAt: claim.createdAt });
  }
}

async function clearStaleClaim(s: Services, record: Pick<RecordDoc, '_id' | 'rev'>): Promise<boolean> {
  const id = `${record._id}:${record.rev + 1}`;
  const [current, held] = await Promise.all([s.models.records.findById(record._id, { rev: 1 }).lean(), s.models.revClaims.findById(id).lean()]);
  if (!held) return true;
  if (!current || current.rev !== record.rev || Date.now() - held.createdAt.getTime() < STALE_CLAIM_MS) return false;
  const removed = await s.models.revClaims.deleteOne({ _id: id, createdAt: held.createdAt });
  return removed.deletedCount === 1;
}
