import { AppError } from '../../lib/errors';
import { findByIds } from '../../lib/store';
import type { AuthContext, RecordNeed } from '../../lib/routing';
import { cacheTag, now, type Services } from '../../services';
import { trailOwnerOf } from '../audit/use-cases';
import { requireConsent } from '../consents/use-cases';
import { grantId, teamGrantId } from '../sharing/model';
import { isTeamMember } from '../teams/use-cases';
import type { RecordDoc } from './model';

/**
 * The caller's relation to a record. `member`: a current member of a care team the record is
 * encrypted to (DESIGN §13): the patient's share covers the team, so any member reads and writes
 * for her (writes also under her consent to the team), but only the owner or author shares.
 */
export type RecordRole = 'owner' | 'author' | 'reader' | 'member';

/** What each role may do (the permission matrix tests are generated from this table). */
export const ROLE_MAY: Record<RecordRole, readonly RecordNeed[]> = {
  owner: ['read', 'edit', 'share', 'delete', 'audit'],
  author: ['read', 'edit', 'share'],
  reader: ['read'],
  member: ['read', 'edit'],
};

export interface RecordAccess {
  role: RecordRole;
  /**
   * Null only for the owner's `audit` or `delete` of a record that is gone: its trail stays,
   * and a delete that failed half-way can be finished.
   */
  record: RecordDoc | null;
}

export const recordNotFound = () =>
  new AppError({ status: 404, code: 'record-not-found', message: 'No such record.' });

/**
 * The caller's role on the record: owner; else nothing unless the stored message is
 * encrypted to them (revoked users are no longer); then the creator is `author`, others
 * `reader` (a grant past its expiry gives nothing). Someone without a role gets 404, so
 * record ids cannot be probed; a role without the need gets 403.
 *
 * An author who is not the owner, and a team member, also need the owner's current consent (to
 * them, or to a team of the record they are a member of) for anything but a read.
 *
 * @throws AppError 404 `record-not-found`, 403 `forbidden`, `no-consent`.
 */
export async function authorizeRecord(
  s: Services,
  recordId: string,
  auth: AuthContext,
  need: RecordNeed,
  /** How to read the record on a cache miss (a batch passes the one it read with the others). */
  load: () => Promise<RecordDoc | null> = () => s.models.records.findById(recordId).lean(),
): Promise<RecordAccess> {
  const record = await s.caches.records.get(recordId, load);
  if (!record) {
    if (
      (need === 'audit' || need === 'delete') &&
      (await trailOwnerOf(s, recordId)) === auth.userId
    ) {
      return { role: 'owner', record: null };
    }
    throw recordNotFound();
  }
  const role = await roleOf(s, record, auth.userId);
  if (!role) throw recordNotFound();
  if (!ROLE_MAY[role].includes(need)) {
    throw new AppError({
      status: 403,
      code: 'forbidden',
      message: 'You may not do this with this record.',
    });
  }
  // A doctor changes what he (or his team) wrote for a patient (edits, files, sharing) only while
  // she consents to him, or to a team of the record he is a current member of.
  if ((role === 'author' || role === 'member') && need !== 'read') {
    const writer = await s.models.users.findById(auth.userId, { fingerprint: 1 }).lean();
    const teams = (record.teams ?? []).map((t) => t.teamId);
    await requireConsent(
      s,
      record.ownerId,
      { id: auth.userId, fingerprint: writer?.fingerprint ?? '' },
      teams,
    );
  }
  return { role, record };
}

/**
 * The role `userId` has on `record` (rules above `authorizeRecord`), or undefined for none. A
 * reader in her own right keeps that role; else a current member of one of the record's teams
 * (by the team's settled statements, so a removal counts from the request after it is stored;
 * no team, no state, an expired team grant: no role) is `member`.
 */
export async function roleOf(
  s: Services,
  record: RecordDoc,
  userId: string,
  readGrant = grantReader(s),
): Promise<RecordRole | undefined> {
  return (
    (await ownRoleOf(s, record, userId, readGrant)) ??
    ((await isMemberOfATeamOf(s, record, userId)) ? 'member' : undefined)
  );
}

/** The expiry of a grant (null: none) by its `_id`. */
type GrantReader = (id: string) => Promise<Date | null>;

const grantReader =
  (s: Services): GrantReader =>
  async (id) =>
    (await s.models.grants.findById(id, { expiresAt: 1 }).lean())?.expiresAt ?? null;

/**
 * `userId`'s role on each record (roleOf), the grants the read cache misses read together in
 * one `_id $in` (a list page of 50 shared records asked for 50 grants at once, which queued for
 * the driver's pool under load).
 */
export function rolesOf(
  s: Services,
  records: readonly RecordDoc[],
  userId: string,
): Promise<(RecordRole | undefined)[]> {
  let batch: Promise<Map<string, { expiresAt?: Date }>> | undefined;
  const ids = records.map((r) => grantId(r._id, userId));
  const readGrant: GrantReader = async (id) =>
    (await (batch ??= findByIds(s.models.grants, ids, ['expiresAt']))).get(id)?.expiresAt ?? null;
  return Promise.all(records.map((r) => roleOf(s, r, userId, readGrant)));
}

async function isMemberOfATeamOf(s: Services, record: RecordDoc, userId: string): Promise<boolean> {
  for (const team of record.teams ?? []) {
    const grant = await s.models.teamGrants
      .findById(teamGrantId(record._id, team.teamId), { expiresAt: 1 })
      .lean();
    if (grant?.expiresAt && grant.expiresAt.getTime() <= now(s)) continue;
    if (await isTeamMember(s, team.teamId, userId)) return true;
  }
  return false;
}

async function ownRoleOf(
  s: Services,
  record: RecordDoc,
  userId: string,
  readGrant: GrantReader,
): Promise<RecordRole | undefined> {
  if (record.ownerId === userId) return 'owner';
  if (!record.readerIds.includes(userId)) return undefined;
  const recordId = record._id;
  const id = grantId(recordId, userId);
  const grant = await s.caches.grants.get(id, async () => ({
    recordId,
    expiresAt: await readGrant(id),
  }));
  // Also for the record's writer: one taken off and shared with again until a time reads by
  // that grant (a reader named at creation has none).
  if (grant?.expiresAt && grant.expiresAt.getTime() <= now(s)) return undefined;
  return record.creatorId === userId ? 'author' : 'reader';
}

/**
 * Call after the writes that create or change a record, its attachments or its grants: drops
 * them from the read caches, and tells the open tabs of `readers` (everyone who can read it
 * now or could until this write) through the live feed.
 */
export function recordChanged(
  s: Services,
  recordId: string,
  readers: readonly string[],
): Promise<void> {
  return recordsChanged(s, [{ recordId, readers }]);
}

/** recordChanged for several records, in one notice (a batch of new records). */
export function recordsChanged(
  s: Services,
  changes: readonly { recordId: string; readers: readonly string[] }[],
): Promise<void> {
  return s.feed.publish([
    ...changes.map((c) => cacheTag.record(c.recordId)),
    ...changes.flatMap((c) => c.readers.map((id) => cacheTag.readerOf(id, c.recordId))),
  ]);
}

/** The record of a resolved access; only audit and delete may see a deleted one. */
export function requireRecord(access: RecordAccess | undefined): RecordDoc {
  if (!access?.record) throw recordNotFound();
  return access.record;
}
