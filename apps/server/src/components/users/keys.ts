import { LRUCache } from 'lru-cache';
import type { UserDoc, UserModel } from './model';

/** A user's registered key. */
export type UserKey = Pick<UserDoc, '_id' | 'fingerprint' | 'publicKey'>;

/** Users whose keys one process keeps. */
const KEPT_KEYS = 5_000;

/**
 * Users' registered keys by id, kept in this process once read: a user's key is set at
 * registration and never changes (no key rotation; accounts are not deleted), so nothing needs
 * to invalidate them. Every check against a user's stored key reads it here (a record POST
 * read each recipient's, issue 11). Users not found are not kept (the account may be
 * registered next).
 */
export class UserKeys {
  private readonly kept = new LRUCache<string, UserKey>({ max: KEPT_KEYS });

  constructor(private readonly users: UserModel) {}

  async of(userId: string): Promise<UserKey | null> {
    const kept = this.kept.get(userId);
    if (kept) return kept;
    const user = await this.users.findById(userId, { fingerprint: 1, publicKey: 1 }).lean();
    if (!user) return null;
    const key = { _id: user._id, fingerprint: user.fingerprint, publicKey: user.publicKey };
    this.kept.set(userId, key);
    return key;
  }
}
