import { Schema, type Connection, type Model } from 'mongoose';
import { modelOn } from './model';
import { isDuplicateKey } from './db';

/** A claim whose writer died (the guarded document never moved on) is taken back after this long. */
export const STALE_CLAIM_MS = 60_000;

/**
 * The right to move one document from one state to the next, e.g. `record:<id>:<rev + 1>`.
 * Held only while that one write runs.
 */
export interface ClaimDoc {
  _id: string;
  createdAt: Date;
}

const claimSchema = new Schema<ClaimDoc>({ _id: { type: String, required: true }, createdAt: { type: Date, required: true } }, { versionKey: false, strict: 'throw' });

export const claimModel = (c: Connection) => modelOn(c, 'WriteClaim', claimSchema, 'write_claims');

/** What withClaim uses: the claims collection (lib/ takes a model, never the services bag). */
export interface ClaimStore {
  models: { claims: Model<ClaimDoc> };
}

/**
 * Runs a compare-and-set write (an update filtered on the version the caller read) only
 * while holding the claim `id` for the version it writes. MongoDB's filtered update alone
 * would do, but FerretDB v1 lets two racing `updateOne({_id, version})` both match, and the
 * later one then silently undoes the other (a grant based on a stale read could put back a
 * user a revoke had just taken off). The claim's unique `_id` lets only one writer per
 * version run its write at a time; the claim is removed when the write is done. One left by
 * a writer that died is taken back by the next writer after STALE_CLAIM_MS, if
 * `stillUnchanged()` says the guarded document never moved on.
 *
 * Returns what `write` returned, or `undefined` when another writer holds the claim (the
 * caller re-reads and tries again, or reports a conflict).
 */
export async function withClaim<T>(s: ClaimStore, id: string, stillUnchanged: () => Promise<boolean>, write: () => Promise<T>): Promise<T | undefined> {
  const claim = { _id: id, createdAt: new Date() };
  if (!(await tryClaim(s, claim))) {
    if (!(await clearStaleClaim(s, id, stillUnchanged)) || !(await tryClaim(s, claim))) return undefined;
  }
  try {
    return await write();
  } finally {
    await s.models.claims.deleteOne({ _id: claim._id, createdAt: claim.createdAt });
  }
}

async function tryClaim(s: ClaimStore, claim: ClaimDoc): Promise<boolean> {
  try {
    await s.models.claims.create(claim);
    return true;
  } catch (error) {
    if (isDuplicateKey(error)) return false;
    throw error;
  }
}

async function clearStaleClaim(s: ClaimStore, id: string, stillUnchanged: () => Promise<boolean>): Promise<boolean> {
  const held = await s.models.claims.findById(id).lean();
  if (!held) return true;
  if (Date.now() - held.createdAt.getTime() < STALE_CLAIM_MS || !(await stillUnchanged())) return false;
  const removed = await s.models.claims.deleteOne({ _id: id, createdAt: held.createdAt });
  return removed.deletedCount === 1;
}
