import type { ProvenBindingBody, SignedTreeHeadBody, KtHistoryResponse } from '@medseal/contract';
import { AppError } from '../../lib/errors';
import { encodeBinding, keyIdentityOf } from '../../lib/pgp';
import type { Services } from '../../services';

/**
 * Logs a user's key binding (registration does this before the account exists, so no account
 * ever has a key the log does not hold). Returns once a signed head covers it.
 */
export async function logUserKey(
  s: Services,
  user: { id: string; email: string; publicKey: string },
  at: Date,
): Promise<number> {
  const key = await keyIdentityOf(user.publicKey);
  const data = encodeBinding({
    v: 1,
    type: 'user-key',
    userId: user.id,
    email: user.email,
    ...key,
    at: at.getTime(),
  });
  return s.transparency.append(data, user.id);
}

/** @throws AppError 503 `kt-empty` before the first binding is logged. */
export async function latestHead(s: Services): Promise<SignedTreeHeadBody> {
  const head = await s.transparency.latestHead();
  if (!head)
    throw new AppError({
      status: 503,
      code: 'kt-empty',
      message: 'The key-transparency log is empty.',
    });
  return head;
}

export async function consistencyProof(
  s: Services,
  from: number,
  to: number,
): Promise<{ proof: string[] }> {
  return { proof: await s.transparency.consistency(from, to) };
}

/** @throws AppError 404 `kt-not-logged` when the log holds no binding for the user in that tree. */
export async function userBinding(
  s: Services,
  userId: string,
  size: number,
): Promise<ProvenBindingBody> {
  const indexes = await s.transparency.subjectIndexes(userId, size);
  const latest = indexes[indexes.length - 1];
  if (latest === undefined) {
    throw new AppError({
      status: 404,
      code: 'kt-not-logged',
      message: 'The log holds no key for this user in that tree.',
    });
  }
  return s.transparency.proven(latest, size);
}

export async function history(
  s: Services,
  userId: string,
  size: number,
): Promise<KtHistoryResponse> {
  const indexes = await s.transparency.subjectIndexes(userId, size);
  return { size, bindings: await Promise.all(indexes.map((i) => s.transparency.proven(i, size))) };
}
