import type { Model } from 'mongoose';
import { withClaim, type ClaimStore } from './claims';
import { isDuplicateKey } from './db';
import { AppError } from './errors';

/**
 * A per-user blob the user encrypts to and signs for themselves (the contacts list, the account
 * state of DESIGN §12): opaque here, one document addressed by `_id` = user id (an `_id` read,
 * DESIGN §9), replaced only from the version the writer read.
 */
export interface SelfBlobDoc<B> {
  _id: string;
  version: number;
  blob: B;
  updatedAt: Date;
}

/** The stored blob and its version, or version 0 and no blob. */
export async function getSelfBlob<B>(
  model: Model<SelfBlobDoc<B>>,
  userId: string,
): Promise<{ version: number; blob: B | null }> {
  const doc = await model.findById(userId).lean<SelfBlobDoc<B>>();
  return doc ? { version: doc.version, blob: doc.blob } : { version: 0, blob: null };
}

/**
 * Replaces the blob when `baseVersion` is the stored one (0 = none yet: a unique insert; later
 * versions under a claim, lib/claims.ts), so of two devices writing from the same version one
 * gets 409 on every engine. When nothing is stored, any `baseVersion` creates the blob at the
 * version after it (a unique insert too). Returns the new version.
 *
 * @throws AppError 409 `version-conflict` (with `conflictMessage`).
 */
export async function putSelfBlob<B>(
  s: ClaimStore,
  model: Model<SelfBlobDoc<B>>,
  input: { userId: string; baseVersion: number; blob: B; conflictMessage: string },
): Promise<number> {
  const { userId, baseVersion, blob } = input;
  const conflict = () =>
    new AppError({ status: 409, code: 'version-conflict', message: input.conflictMessage });
  const version = baseVersion + 1;
  const now = new Date();
  const create = async () => {
    try {
      await model.create({ _id: userId, version, blob, updatedAt: now });
    } catch (error) {
      if (isDuplicateKey(error)) throw conflict();
      throw error;
    }
    return version;
  };
  if (baseVersion === 0) return create();
  const unchanged = async () =>
    (await model.findById(userId, 'version').lean<{ version: number }>())?.version === baseVersion;
  const result = await withClaim(
    s,
    `${model.collection.collectionName}:${userId}:${version}`,
    unchanged,
    () =>
      model.updateOne(
        { _id: userId, version: baseVersion },
        { $set: { blob, version, updatedAt: now } },
      ),
  );
  if (result?.matchedCount === 1) return version;
  // Nothing stored (lost, or deleted by the operator): a device starting again writes above the
  // version it last saw, so its own and the other devices' high-water marks accept the new blob.
  if (!(await model.exists({ _id: userId }))) return create();
  throw conflict();
}
