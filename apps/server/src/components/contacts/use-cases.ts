import type { ContactsBlobResponse, PutContactsRequest } from '@medseal/contract';
import { AppError } from '../../lib/errors';
import { checkMessage } from '../../lib/pgp';
import { getSelfBlob, putSelfBlob } from '../../lib/self-blobs';
import type { Services } from '../../services';

const MAX_CONTACTS_BYTES = 512 * 1024;

/** Kept for clients to fold into the account state once (DESIGN §12); new clients no longer write it. */
export function getContacts(s: Services, userId: string): Promise<ContactsBlobResponse> {
  return getSelfBlob(s.models.contacts, userId);
}

/**
 * Replaces the contacts list from `baseVersion` (lib/self-blobs.ts). The blob must be an
 * OpenPGP message encrypted to the user's own key only.
 *
 * @throws AppError 409 `version-conflict`, 400 message check codes.
 */
export async function putContacts(
  s: Services,
  userId: string,
  body: PutContactsRequest,
): Promise<ContactsBlobResponse> {
  const user = await s.models.users.findById(userId, { publicKey: 1 }).lean();
  if (!user) throw new AppError({ status: 401, code: 'unauthenticated', message: 'Log in first.' });
  await checkMessage(body.blob, [user.publicKey], MAX_CONTACTS_BYTES);
  const version = await putSelfBlob(s, s.models.contacts, {
    userId,
    baseVersion: body.baseVersion,
    blob: body.blob,
    conflictMessage: 'The contacts list changed on another device; reload and merge.',
  });
  return { version, blob: body.blob };
}

/** Deletes the user's contacts list (the app does, once it is in the account state); idempotent. */
export async function deleteContacts(s: Services, userId: string): Promise<void> {
  await s.models.contacts.deleteOne({ _id: userId });
}
