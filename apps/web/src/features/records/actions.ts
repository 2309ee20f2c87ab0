import type { VerifiedRecord } from './opened';

/**
 * The one place the app decides which actions it offers on a record (issues 13, 14: show only
 * what the server allows). It mirrors the server's rule (apps/server records/access.ts:
 * `roleOf`, `ROLE_MAY` and the consent check of `authorizeRecord`) from verified data only:
 *
 * - `owner`: the verified envelope names me as owner;
 * - `author`: I read the record in my own right and wrote its current version naming myself
 *   among its readers. The server's author is the record's creator; only the owner or the
 *   creator ever writes a version naming its writer (a team member writes to the readers as they
 *   are, a reader does not write), so this is the creator. A creator whose record the owner
 *   re-wrote since is not offered the author's actions: fewer than allowed, never one that fails;
 * - `member`: I do not read it in my own right but through a verified care team I am a current
 *   member of (with my key);
 * - `reader`: anything else.
 */
export type MyRecordRole = 'owner' | 'author' | 'member' | 'reader';

export type RecordAction = 'edit' | 'share' | 'delete';

/** What each role may do (apps/server records/access.ts ROLE_MAY; `share` covers revoking readers and teams). */
const ROLE_MAY: Record<MyRecordRole, readonly RecordAction[]> = {
  owner: ['edit', 'share', 'delete'],
  author: ['edit', 'share'],
  member: ['edit'],
  reader: [],
};

/** My role on a verified record (rules above). */
export function myRoleOn(
  record: VerifiedRecord,
  me: { id: string; fingerprint: string },
): MyRecordRole {
  if (record.dto.ownerId === me.id) return 'owner';
  const readsInOwnRight = record.readers.some(
    (r) => r.userId === me.id && r.fingerprint === me.fingerprint,
  );
  if (readsInOwnRight)
    return record.author.id === me.id && record.signedRecipients.includes(me.fingerprint)
      ? 'author'
      : 'reader';
  const member = record.teams.some((t) =>
    t.team.state.members.some((m) => m.userId === me.id && m.fingerprint === me.fingerprint),
  );
  return member ? 'member' : 'reader';
}

/**
 * Whether `role` may take `action`. An author or a member changes a patient's record only while
 * she consents to him (or to a team of the record he is a member of): `consent` is whether that
 * was verified; unknown counts as no.
 */
export function may(role: MyRecordRole, action: RecordAction, consent: boolean): boolean {
  if (!ROLE_MAY[role].includes(action)) return false;
  return role === 'owner' || consent;
}
