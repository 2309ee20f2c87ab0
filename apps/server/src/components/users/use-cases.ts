import type { DirectoryResponse, DirectoryUser } from '@medseal/contract';
import { startsWith } from '../../lib/db';
import { AppError } from '../../lib/errors';
import type { Services } from '../../services';
import type { UserDoc } from './model';

const DIRECTORY_LIMIT = 20;

export function toDirectoryUser(u: Pick<UserDoc, '_id' | 'name' | 'role' | 'publicKey' | 'fingerprint'>): DirectoryUser {
  return { id: u._id, name: u.name, role: u.role, publicKey: u.publicKey, fingerprint: u.fingerprint };
}

/** Exact email or case-insensitive name prefix; the fingerprint is the one the server computed. */
export async function findUsers(s: Services, query: { email?: string | undefined; namePrefix?: string | undefined }): Promise<DirectoryResponse> {
  const filter = query.email !== undefined ? { email: query.email } : { nameLower: startsWith((query.namePrefix ?? '').toLowerCase()) };
  const users = await s.models.users
    .find(filter, { name: 1, role: 1, publicKey: 1, fingerprint: 1 })
    .sort({ nameLower: 1 })
    .limit(DIRECTORY_LIMIT)
    .lean();
  return { users: users.map(toDirectoryUser) };
}

/** @throws AppError 404 `user-not-found`. */
export async function getUser(s: Services, userId: string): Promise<DirectoryUser> {
  const user = await s.models.users.findById(userId, { name: 1, role: 1, publicKey: 1, fingerprint: 1 }).lean();
  if (!user) throw new AppError({ status: 404, code: 'user-not-found', message: 'No such user.' });
  return toDirectoryUser(user);
}
