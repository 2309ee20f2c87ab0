import {
  KT_LEAVES_PAGE,
  type KtHistoryResponse,
  type KtLeavesResponse,
  type LatestBindingBody,
  type SignedTreeHeadBody,
} from '@medseal/contract';
import { randomBytes } from 'node:crypto';
import { setTimeout as sleep } from 'node:timers/promises';
import { AppError } from '../../lib/errors';
import {
  emailCommitment,
  encodeBinding,
  keyIdentityOf,
  memberSubject,
  teamSubject,
  USER_KEY_BINDING_VERSION,
} from '../../lib/pgp';
import type { Logger } from 'pino';
import { withClaim } from '../../lib/claims';
import type { Models, Services } from '../../services';
import { setUserFields, type UserDoc } from '../users/model';

/** A new nonce for a user's email commitment: 128 random bits, base64url. */
export const newEmailNonce = (): string => randomBytes(16).toString('base64url');

/**
 * Logs a user's key binding (registration does this before the account exists, so no account
 * ever has a key the log does not hold). The leaf commits to her email under her nonce and does
 * not hold it: it is served to any session that knows her id. Returns once a signed head
 * covers it.
 */
export async function logUserKey(
  s: Pick<Services, 'transparency'>,
  user: Pick<UserDoc, '_id' | 'email' | 'publicKey'> & { emailNonce: string },
  at: Date,
): Promise<number> {
  const key = await keyIdentityOf(user.publicKey);
  const data = encodeBinding({
    v: USER_KEY_BINDING_VERSION,
    type: 'user-key',
    userId: user._id,
    emailCommitment: emailCommitment(user.email, user.emailNonce),
    ...key,
    at: at.getTime(),
  });
  return s.transparency.append(data, user._id);
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

/**
 * Migration `kt-email-commitment-1`: an account from before version 2 key leaves gets a nonce
 * and a version 2 leaf of its current key, which becomes its latest, the one served to anyone
 * who knows its id. Its version 1 leaves, which hold the email, stay in the append-only log and
 * are served to herself only (`/kt/history`). One account at a time under a claim, so processes
 * running this at once log one leaf per account; the leaf is logged before the nonce is stored,
 * so a run that dies between leaves the account to the next run. Returns how many it logged.
 */
export async function migrateEmailCommitments(
  m: Pick<Models, 'users' | 'claims'>,
  transparency: Services['transparency'],
  logger: Logger,
): Promise<number> {
  const nonceOf = async (id: string) =>
    (await m.users.findById(id, { emailNonce: 1 }).lean())?.emailNonce;
  let logged = 0;
  const pending = m.users
    .find({ emailNonce: { $exists: false } }, { _id: 1 })
    .lean()
    .cursor();
  for await (const { _id } of pending) {
    await withClaim(
      { models: m },
      `kt-email:${_id}`,
      async () => (await nonceOf(_id)) === undefined,
      async () => {
        const user = await m.users
          .findById(_id, { email: 1, publicKey: 1, emailNonce: 1, loginHash: 1 })
          .lean();
        if (!user || user.emailNonce !== undefined) return;
        const emailNonce = newEmailNonce();
        await logUserKey({ transparency }, { ...user, emailNonce }, new Date());
        // Under the user's own claim too: a password change landing now must not be undone.
        while (!(await setUserFields({ models: m }, user, { emailNonce }))) {
          const fresh = await m.users.findById(_id, { loginHash: 1 }).lean();
          if (!fresh) return;
          user.loginHash = fresh.loginHash;
          await sleep(20);
        }
        logged += 1;
      },
    );
  }
  logger.info({ logged }, 'kt: key leaves committing to the email logged');
  return logged;
}
