import type { DirectoryResponse, DirectoryUser } from '@medseal/contract';
import { startsWith } from '../../lib/db';
import { AppError } from '../../lib/errors';
import type { AuthContext } from '../../lib/routing';
import { consentPartnersOf } from '../consents/use-cases';
import { coReadersOf } from '../records/co-readers';
import { teamMatesOf } from '../teams/use-cases';
import type { Services } from '../../services';
import type { UserDoc } from './model';
import { userBy } from './lookups';

const DIRECTORY_LIMIT = 20;

export function toDirectoryUser(
  u: Pick<UserDoc, '_id' | 'name' | 'role' | 'publicKey' | 'fingerprint'>,
): DirectoryUser {
  return {
    id: u._id,
    name: u.name,
    role: u.role,
    publicKey: u.publicKey,
    fingerprint: u.fingerprint,
  };
}

/**
 * The directory (issue 15, finding 1). By exact email: anyone, counted per session and per
 * address (so it cannot be used to sweep a list of emails). By name prefix: only the people
 * I am connected to (we read a record in common, share a team, or she consented to him
 * writing for her, DESIGN §13) and doctors who chose to be listed: a stranger cannot list the
 * patients by trying every two letters. The fingerprint is the one the server computed.
 *
 * @throws AppError 429 `rate-limited`.
 */
export async function findUsers(
  s: Services,
  who: { auth: AuthContext; ip: string },
  query: { email?: string | undefined; namePrefix?: string | undefined },
): Promise<DirectoryResponse> {
  if (query.email !== undefined) {
    await s.limiter.hit(`directory-email:session:${who.auth.sessionId}`, {
      limit: s.settings.rateLimits.directoryEmailPerSession,
    });
    await s.limiter.hit(`directory-email:ip:${who.ip}`, {
      limit: s.settings.rateLimits.directoryEmailPerIp,
    });
    const user = await userBy(s.models, { kind: 'email', email: query.email });
    // Her nonce only to someone who already knows her email (a version 2 key leaf commits to it).
    return {
      users: user
        ? [
            {
              ...toDirectoryUser(user),
              ...(user.emailNonce ? { emailNonce: user.emailNonce } : {}),
            },
          ]
        : [],
    };
  }
  const [coReaders, teamMates, consents] = await Promise.all([
    coReadersOf(s, who.auth.userId),
    teamMatesOf(s, who.auth.userId),
    consentPartnersOf(s, who.auth.userId),
  ]);
  const filter = {
    nameLower: startsWith((query.namePrefix ?? '').toLowerCase()),
    $or: [
      { _id: { $in: [...coReaders, ...teamMates, ...consents] } },
      { role: 'doctor', listed: true },
    ],
  };
  const users = await s.models.users
    .find(filter, { name: 1, role: 1, publicKey: 1, fingerprint: 1 })
    .sort({ nameLower: 1 })
    .limit(DIRECTORY_LIMIT)
    .lean();
  return { users: users.map(toDirectoryUser) };
}

/** @throws AppError 404 `user-not-found`. */
export async function getUser(s: Services, userId: string): Promise<DirectoryUser> {
  const user = await s.models.users
    .findById(userId, { name: 1, role: 1, publicKey: 1, fingerprint: 1 })
    .lean();
  if (!user) throw new AppError({ status: 404, code: 'user-not-found', message: 'No such user.' });
  return toDirectoryUser(user);
}
