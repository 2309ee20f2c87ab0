import type { ContactsBlobResponse, PutContactsRequest } from '@medseal/contract';
import { withClaim } from '../../lib/claims';
import { AppError } from '../../lib/errors';
import { checkMessage } from '../../lib/pgp';
import type { Services } from '../../services';
import { isDuplicateKey } from '../../lib/db';

const MAX_CONTACTS_BYTES = 512 * 1024;

export async function getContacts(s: Services, userId: string): Promise<ContactsBlobResponse> {
  const doc = await s.models.contacts.findById(userId).lean();
  return doc ? { version: doc.version, blob: doc.blob } : { version: 0, blob: null };
}

/**
 * Replaces the contacts list when `baseVersion` is the stored one (0 = none yet; a unique
 * insert, later versions under a claim, lib/claims.ts), so of two devices writing from the
 * same version one gets 409 on every engine. The blob must be an OpenPGP message encrypted
 * to the user's own key only.
 *
 * @throws AppError 409 `version-conflict`, 400 message check codes.
 */
export async function putContacts(s: Services, userId: string, body: PutContactsRequest): Promise<ContactsBlobResponse> {
  const user = await s.models.users.findById(userId, { publicKey: 1 }).lean();
  if (!user) throw new AppError({ status: 401, code: 'unauthenticated', message: 'Log in first.' });
  await checkMessage(body.blob, [user.publicKey], MAX_CONTACTS_BYTES);
  const conflict = () => new AppError({ status: 409, code: 'version-conflict', message: 'The contacts list changed on another device; reload and merge.' });
  const version = body.baseVersion + 1;
  const now = new Date();
  if (body.baseVersion === 0) {
    try {
      await s.models.contacts.create({ _id: userId, version, blob: body.blob, updatedAt: now });
    } catch (error) {
      if (isDuplicateKey(error)) throw conflict();
      throw error;
    }
  } else {
    const unchanged = async () => (await s.models.contacts.findById(userId, { version: 1 }).lean())?.version === body.baseVersion;
    const result = await withClaim(s, `contacts:${userId}:${version}`, unchanged, () =>
      s.models.contacts.updateOne({ _id: userId, version: body.baseVersion }, { $set: { blob: body.blob, version, updatedAt: now } }),
    );
    if (result?.matchedCount !== 1) throw conflict();
  }
  return { version, blob: body.blob };
}
