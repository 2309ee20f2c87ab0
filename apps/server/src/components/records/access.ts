import { AppError } from '../../lib/errors';
import type { AuthContext, RecordNeed } from '../../lib/routing';
import { cacheTag, type Services } from '../../services';
import { eventId } from '../audit/model';
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

export const recordNotFound = () => new AppError({ status: 404, code: 'record-not-found', message: 'No such record.' });

/**
 * The caller's role on the record: owner; else nothing unless the stored message is
 * encrypted to them (revoked users are no longer); then the creator is `author`, others
 * `reader` (a grant past its expiry gives nothing). Someone without a role gets 404, so
 * record ids cannot be probed; a role without the need gets 403.
 *
 * An author who is not the owner also needs the owner's current consent for anything but a read.
 *
 * @throws AppError 404 `record-not-found`, 403 `forbidden`, `no-consent`.
 */
export async function authorizeRecord(s: Services, recordId: string, auth: AuthContext, need: RecordNeed): Promise<RecordAccess> {
  const record = await s.caches.records.get(recordId, () => s.models.records.findById(recordId).lean());
  if (!record) {
    if ((need === 'audit' || need === 'delete') && (await s.models.audit.exists({ _id: eventId(recordId, 1), ownerId: auth.userId }))) {
      return { role: 'owner', record: null };
    }
    throw recordNotFound();
  }
  const role = await roleOf(s, record, auth.userId);
  if (!role) throw recordNotFound();
  if (!ROLE_MAY[role].includes(need)) {
    throw new AppError({ status: 403, code: 'forbidden', message: 'You may not do this with this record.' });
  }
  // A doctor changes what he wrote for a patient (edits, files, sharing) only while she consents.
  if (role === 'author' && need !== 'read') {
    const author = await s.models.users.findById(auth.userId, { fingerprint: 1 }).lean();
    await requireConsent(s, record.ownerId, { id: auth.userId, fingerprint: author?.fingerprint ?? '' });
  }
  return { role, record };
}

/**
 * The role `userId` has on `record` (rules above `authorizeRecord`), or undefined for none. A
 * reader in her own right keeps that role; else a current member of one of the record's teams
 * (by the team's settled statements, so a removal counts from the request after it is stored;
 * no team, no state, an expired team grant: no role) is `member`.
 */
export async function roleOf(s: Services, record: RecordDoc, userId: string): Promise<RecordRole | undefined> {
  return (await ownRoleOf(s, record, userId)) ?? ((await isMemberOfATeamOf(s, record, userId)) ? 'member' : undefined);
}

async function isMemberOfATeamOf(s: Services, record: RecordDoc, userId: string): Promise<boolean> {
  for (const team of record.teams ?? []) {
    const grant = await s.models.teamGrants.findById(teamGrantId(record._id, team.teamId), { expiresAt: 1 }).lean();
    if (grant?.expiresAt && grant.expiresAt.getTime() <= Date.now()) continue;
    if (await isTeamMember(s, team.teamId, userId)) return true;
  }
  return false;
}

async function ownRoleOf(s: Services, record: RecordDoc, userId: string): Promise<RecordRole | undefined> {
  if (record.ownerId === userId) return 'owner';
  if (!record.readerIds.includes(userId)) return undefined;
  if (record.creatorId === userId) return 'author';
  const recordId = record._id;
  const id = grantId(recordId, userId);
  const grant = await s.caches.grants.get(id, async () => {
    const doc = await s.models.grants.findById(id, { expiresAt: 1 }).lean();
    return { recordId, expiresAt: doc?.expiresAt ?? null };
  });
  if (grant?.expiresAt && grant.expiresAt.getTime() <= Date.now()) return undefined;
  return 'reader';
}

/**
 * Call after the writes that create or change a record, its attachments or its grants: drops
 * them from the read caches, and tells the open tabs of `readers` (everyone who can read it
 * now or could until this write) through the live feed.
 */
export function recordChanged(s: Services, recordId: string, readers: readonly string[]): Promise<void> {
  return recordsChanged(s, [{ recordId, readers }]);
}

/** recordChanged for several records, in one notice (a batch of new records). */
export function recordsChanged(s: Services, changes: readonly { recordId: string; readers: readonly string[] }[]): Promise<void> {
  const readers = new Set(changes.flatMap((c) => c.readers));
  return s.feed.publish([...changes.map((c) => cacheTag.record(c.recordId)), ...[...readers].map((id) => cacheTag.reader(id))]);
}

/** The record of a resolved access; only audit and delete may see a deleted one. */
export function requireRecord(access: RecordAccess | undefined): RecordDoc {
  if (!access?.record) throw recordNotFound();
  return access.record;
}
