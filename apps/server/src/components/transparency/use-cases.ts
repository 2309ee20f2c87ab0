import {
  KT_LEAVES_PAGE,
  type KtHistoryResponse,
  type KtLeavesResponse,
  type LatestBindingBody,
  type SignedTreeHeadBody,
} from '@medseal/contract';
import { AppError } from '../../lib/errors';
import { encodeBinding, keyIdentityOf, memberSubject, teamSubject } from '../../lib/pgp';
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

/**
 * A user's latest binding in the tree of `size` leaves, with the map's proof that it is the latest.
 * @throws AppError 404 `kt-not-logged` when the log holds no binding for the user in that tree.
 */
export async function userBinding(
  s: Services,
  userId: string,
  size: number,
): Promise<LatestBindingBody> {
  const indexes = await s.transparency.subjectIndexes(userId, size);
  const latest = indexes[indexes.length - 1];
  if (latest === undefined) {
    throw new AppError({
      status: 404,
      code: 'kt-not-logged',
      message: 'The log holds no key for this user in that tree.',
    });
  }
  const [proven, map] = await Promise.all([
    s.transparency.proven(latest, size),
    s.transparency.mapProof(userId, size),
  ]);
  return { ...proven, map };
}

/**
 * Every leaf listed under `subject` in the tree of `size` leaves, each with its proof, and the
 * map's entry for the subject (which proves the listing whole).
 */
async function subjectHistory(
  s: Services,
  subject: string,
  size: number,
): Promise<KtHistoryResponse> {
  const indexes = await s.transparency.subjectIndexes(subject, size);
  const [bindings, map] = await Promise.all([
    Promise.all(indexes.map((i) => s.transparency.proven(i, size))),
    s.transparency.mapProof(subject, size),
  ]);
  return { size, bindings, map };
}

/** Leaves from..to-1 as hashes with their subject's map key (for auditors). */
export async function leafHashes(s: Services, from: number, to: number): Promise<KtLeavesResponse> {
  return { leaves: await s.transparency.leafHashes(from, to, KT_LEAVES_PAGE) };
}

export function history(s: Services, userId: string, size: number): Promise<KtHistoryResponse> {
  return subjectHistory(s, userId, size);
}

/** The team statements that name the caller as a member (self-monitoring of memberships). */
export function memberships(s: Services, userId: string, size: number): Promise<KtHistoryResponse> {
  return subjectHistory(s, memberSubject(userId), size);
}

export function teamHistory(s: Services, teamId: string, size: number): Promise<KtHistoryResponse> {
  return subjectHistory(s, teamSubject(teamId), size);
}
