import {
  MAX_ACCOUNT_STATE_BYTES,
  type AccountStateResponse,
  type PutAccountStateQuery,
} from '@medseal/contract';
import { toBuffer } from '../../lib/bytes';
import { AppError } from '../../lib/errors';
import { checkMessage } from '../../lib/pgp';
import { getSelfBlob, putSelfBlob } from '../../lib/self-blobs';
import type { Services } from '../../services';

/** The stored state (base64url), or version 0 and none: the client makes that a security error. */
export async function getAccountState(s: Services, userId: string): Promise<AccountStateResponse> {
  const { version, blob } = await getSelfBlob(s.models.accountStates, userId);
  return { version, blob: blob === null ? null : toBuffer(blob).toString('base64url') };
}

/**
 * Stores a new account state from `baseVersion` (lib/self-blobs.ts). It must be a binary
 * OpenPGP message encrypted to the user's own key only; what it says is the client's to check.
 *
 * @throws AppError 409 `version-conflict`, 400 message check codes, 413 `too-large`.
 */
export async function putAccountState(
  s: Services,
  userId: string,
  query: PutAccountStateQuery,
  body: Buffer,
): Promise<{ version: number }> {
  const user = await s.models.users.findById(userId, { publicKey: 1 }).lean();
  if (!user) throw new AppError({ status: 401, code: 'unauthenticated', message: 'Log in first.' });
  await checkMessage(new Uint8Array(body), [user.publicKey], MAX_ACCOUNT_STATE_BYTES);
  const version = await putSelfBlob(s, s.models.accountStates, {
    userId,
    baseVersion: query.baseVersion,
    blob: body,
    conflictMessage:
      'Your account state changed on another device; reload it and apply the change again.',
  });
  return { version };
}
