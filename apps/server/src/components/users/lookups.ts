import { Schema, type Connection, type Model } from 'mongoose';
import type { Logger } from 'pino';
import { STALE_CLAIM_MS } from '../../lib/claims';
import { isDuplicateKey } from '../../lib/db';
import { modelOn } from '../../lib/model';
import type { UserDoc, UserModel } from './model';

/**
 * Who holds an email or a public key: `_id` is `email:<normalized email>` or
 * `key:<fingerprint>`. On FerretDB v1 only an `_id` lookup is answered from an index
 * (DESIGN §9), so finding a user by email is two `_id` reads (this, then the user), and a
 * new `_id` insert is atomic: of two registrations with one email only one inserts it.
 */
export interface UserLookupDoc {
  _id: string;
  userId: string;
  createdAt: Date;
}

const lookupSchema = new Schema<UserLookupDoc>(
  {
    _id: { type: String, required: true },
    userId: { type: String, required: true },
    createdAt: { type: Date, required: true },
  },
  { versionKey: false, strict: 'throw' },
);

export const userLookupModel = (c: Connection) =>
  modelOn(c, 'UserLookup', lookupSchema, 'user_lookups');

export interface UserLookupStore {
  users: UserModel;
  userLookups: Model<UserLookupDoc>;
}

export type UserName = { kind: 'email'; email: string } | { kind: 'key'; fingerprint: string };

const lookupId = (name: UserName) =>
  name.kind === 'email' ? `email:${name.email}` : `key:${name.fingerprint}`;
const holds = (user: Pick<UserDoc, 'email' | 'fingerprint'>, name: UserName) =>
  name.kind === 'email' ? user.email === name.email : user.fingerprint === name.fingerprint;

/** No user has this id (ids are base64url): read for a name nobody holds, so both cost two reads. */
const NO_USER = '-';

/**
 * The user holding an email or key, or null. A known and an unknown name cost the same two
 * `_id` reads (account enumeration, DESIGN §3). A lookup left by a registration that died
 * before its user was stored finds nobody.
 */
export async function userBy(m: UserLookupStore, name: UserName): Promise<UserDoc | null> {
  const lookup = await m.userLookups.findById(lookupId(name)).lean();
  const user = await m.users.findById(lookup?.userId ?? NO_USER).lean();
  return user && holds(user, name) ? user : null;
}

/**
 * Takes `name` for the user `userId` who is being registered (before the user is stored).
 * False: someone holds it, or is registering with it right now. A lookup whose user was never
 * stored (its registration died between the two inserts) is taken back after STALE_CLAIM_MS.
 */
export async function takeUserName(
  m: UserLookupStore,
  name: UserName,
  userId: string,
): Promise<boolean> {
  const _id = lookupId(name);
  const insert = async () => {
    try {
      await m.userLookups.create({ _id, userId, createdAt: new Date() });
      return true;
    } catch (error) {
      if (isDuplicateKey(error)) return false;
      throw error;
    }
  };
  if (await insert()) return true;
  const held = await m.userLookups.findById(_id).lean();
  if (!held) return insert();
  if (
    Date.now() - held.createdAt.getTime() < STALE_CLAIM_MS ||
    (await m.users.exists({ _id: held.userId }))
  )
    return false;
  await m.userLookups.deleteOne({ _id, userId: held.userId, createdAt: held.createdAt });
  return insert();
}

/** Gives back names taken for a registration that failed. */
export async function giveBackUserNames(
  m: UserLookupStore,
  names: UserName[],
  userId: string,
): Promise<void> {
  await Promise.all(names.map((name) => m.userLookups.deleteOne({ _id: lookupId(name), userId })));
}

/**
 * Fills the lookups of users stored before them (issue 11), or by a process of the release
 * before during a rolling deploy. Idempotent; a lookup naming a user that was never stored
 * is replaced.
 */
export async function migrateUserLookups(m: UserLookupStore, logger: Logger): Promise<number> {
  let added = 0;
  for await (const user of m.users.find({}, { email: 1, fingerprint: 1 }).lean().cursor()) {
    for (const name of [
      { kind: 'email', email: user.email },
      { kind: 'key', fingerprint: user.fingerprint },
    ] as const) {
      const _id = lookupId(name);
      const held = await m.userLookups.findById(_id).lean();
      if (held?.userId === user._id) continue;
      if (held) {
        if (await m.users.exists({ _id: held.userId })) continue;
        await m.userLookups.deleteOne({ _id, userId: held.userId, createdAt: held.createdAt });
      }
      try {
        await m.userLookups.create({ _id, userId: user._id, createdAt: new Date() });
        added += 1;
      } catch (error) {
        if (!isDuplicateKey(error)) throw error;
      }
    }
  }
  logger.info({ added }, 'user lookups filled');
  return added;
}
