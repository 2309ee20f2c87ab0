import type { AccessEntry, AccessListResponse, GrantRequest, TeamAccessEntry, TeamGrantRequest } from '@medseal/contract';
import { AppError } from '../../lib/errors';
import { checkGrant, checkPacketFor, checkPublicKey, checkTeamGrant, splicePacket } from '../../lib/pgp';
import type { Services } from '../../services';
import { appendAudit } from '../audit/use-cases';
import { listAttachments } from '../records/attachment-list';
import { addAttachmentPacket } from '../records/attachments';
import { recordChanged } from '../records/access';
import { grantId, teamGrantId } from './model';
import type { RecordDoc } from '../records/model';
import { withRevClaim } from '../records/rev-claim';
import { feedSeqsOf, teamFeedId, teamFeedSeqsOf, UNLISTED } from '../records/feed';
import { teamForRecords } from '../teams/use-cases';
import { findByIds } from '../../lib/store';

const GRANT_CLOCK_SKEW_MS = 10 * 60 * 1000;

const badGrant = (message: string) => new AppError({ status: 400, code: 'bad-grant', message });

/** The grant's time must be now (within the skew) and its expiry, if any, later. @throws AppError 400 `bad-grant`. */
function grantTimes(grant: { at: string; expiresAt?: string | undefined }): { at: Date; expiresAt?: Date } {
  const at = new Date(grant.at);
  if (Number.isNaN(at.getTime()) || Math.abs(at.getTime() - Date.now()) > GRANT_CLOCK_SKEW_MS) throw badGrant('The grant time is not now.');
  const expiresAt = grant.expiresAt === undefined ? undefined : new Date(grant.expiresAt);
  if (expiresAt && (Number.isNaN(expiresAt.getTime()) || expiresAt.getTime() <= Date.now())) throw badGrant('The grant has already expired.');
  return expiresAt ? { at, expiresAt } : { at };
}

/**
 * Adds a new reader's PKESK (for `publicKey`) to every attachment's packets and splices it into
 * the stored message, with the record fields the share sets, all under the record's rev claim;
 * the message update is filtered on `rev`, so a concurrent change makes us re-read and try again
 * instead of losing a packet. Packets are checked first: nothing is stored unless all are for
 * that key and name attachments the record has.
 * @throws AppError 400 `bad-grant`, `recipient-mismatch`; 404 `record-not-found`; 409 `version-conflict`.
 */
async function spliceIn(
  s: Services,
  record: RecordDoc,
  input: { pkesk: string; attachmentPackets: Record<string, string> | undefined; publicKey: string; fields: (based: RecordDoc) => Partial<RecordDoc> },
): Promise<void> {
  const keyIds = (await checkPublicKey(input.publicKey)).encryptionKeyIds;
  const listed = await listAttachments(s.models, record._id);
  for (const [id, packet] of Object.entries(input.attachmentPackets ?? {})) {
    if (!listed.some((a) => a._id === id)) throw badGrant('A packet names an attachment the record does not have.');
    await checkPacketFor(packet, input.publicKey);
  }
  let current: RecordDoc | null = record;
  for (let attempt = 0; ; attempt++) {
    if (!current) throw new AppError({ status: 404, code: 'record-not-found', message: 'No such record.' });
    const message = await splicePacket(current.message, input.pkesk, keyIds);
    const based: RecordDoc = current;
    const result = await withRevClaim(s, based, async () => {
      // Attachments first, so by the time the new reader can read the record they can open its files.
      for (const a of await listAttachments(s.models, record._id)) {
        await addAttachmentPacket(s, a, input.attachmentPackets?.[a._id] ?? input.pkesk, keyIds);
      }
      return s.models.records.updateOne({ _id: based._id, rev: based.rev }, { $set: { message, ...input.fields(based) }, $inc: { rev: 1 } });
    });
    if (result?.matchedCount === 1) return;
    if (attempt >= 4) throw new AppError({ status: 409, code: 'version-conflict', message: 'The record keeps changing; try again.' });
    current = await s.models.records.findById(record._id).lean();
  }
}

/**
 * Share (DESIGN §6): verify the grant is signed by the sharer and names this record, this
 * grantee and the grantee's real fingerprint; check the PKESK is for the grantee's key;
 * add it to every attachment's packets and splice it into the stored message (no
 * re-encryption). All of it runs under the record's rev claim and the message update is
 * filtered on `rev`, so a concurrent change makes us re-read and try again instead of losing
 * a packet.
 *
 * @throws AppError 400 `bad-grant`, `bad-signature`, `recipient-mismatch`, 404 `user-not-found`, 409 `already-recipient`.
 */
export async function grantAccess(s: Services, record: RecordDoc, sharerId: string, body: GrantRequest): Promise<AccessEntry> {
  const [grantee, sharer] = await Promise.all([s.models.users.findById(body.granteeUserId).lean(), s.models.users.findById(sharerId).lean()]);
  if (!grantee) throw new AppError({ status: 404, code: 'user-not-found', message: 'No such user.' });
  if (!sharer) throw new AppError({ status: 401, code: 'unauthenticated', message: 'Log in first.' });
  if (record.readerIds.includes(grantee._id)) {
    throw new AppError({ status: 409, code: 'already-recipient', message: 'This user can already read the record.' });
  }
  const grant = await checkGrant({ signedGrant: body.signedGrant, signerPublicKey: sharer.publicKey });
  if (grant.recordId !== record._id || grant.granteeUserId !== grantee._id || grant.grantedBy !== sharerId) {
    throw badGrant('The grant names another record, grantee or sharer.');
  }
  if (grant.granteeFingerprint !== grantee.fingerprint) {
    throw new AppError({ status: 400, code: 'fingerprint-mismatch', message: "The grant names a fingerprint that is not the grantee's key." });
  }
  const { at, expiresAt } = grantTimes(grant);
  await checkPacketFor(body.pkesk, grantee.publicKey);
  const entry = { userId: grantee._id, fingerprint: grantee.fingerprint };
  // The grantee's listing entry first (one of a failed share is skipped as stale).
  const [feedSeq = UNLISTED] = await s.listing.add(record._id, [grantee._id]);
  await spliceIn(s, record, {
    pkesk: body.pkesk,
    attachmentPackets: body.attachmentPackets,
    publicKey: grantee.publicKey,
    fields: (based) => ({ recipients: [...based.recipients, entry], readerIds: [...based.readerIds, grantee._id], feedSeqs: [...feedSeqsOf(based), feedSeq] }),
  });
  await s.models.grants.replaceOne(
    { _id: grantId(record._id, grantee._id) },
    { recordId: record._id, granteeId: grantee._id, granteeFingerprint: grantee.fingerprint, grantedBy: sharerId, signedGrant: body.signedGrant, at, ...(expiresAt ? { expiresAt } : {}) },
    { upsert: true },
  );
  await recordChanged(s, record._id, [...record.readerIds, grantee._id]);
  await appendAudit(s, { recordId: record._id, ownerId: record.ownerId, actorId: sharerId, action: 'share' });
  return {
    userId: grantee._id,
    name: grantee.name,
    role: grantee.role,
    fingerprint: grantee.fingerprint,
    via: 'grant',
    signedGrant: body.signedGrant,
    grantedBy: sharerId,
    grantedAt: at.toISOString(),
  };
}

/**
 * Share with a care team (DESIGN §13): the team grant must be signed by the sharer and name this
 * record, this team and its creation (genesis); the PKESK must be for the team's current key
 * (a team key the statements have retired is refused); it is spliced in like a person's (no
 * re-encryption: the cost depends neither on the record's size nor on the team's). From then
 * on every current member reads the record, and only while she is one.
 *
 * @throws AppError 404 `team-not-found`; 400 `bad-grant`, `bad-signature`, `team-key-not-current`;
 *   409 `already-recipient`.
 */
export async function grantTeamAccess(s: Services, record: RecordDoc, sharerId: string, body: TeamGrantRequest): Promise<TeamAccessEntry> {
  const [team, sharer] = await Promise.all([teamForRecords(s, body.teamId), s.models.users.findById(sharerId, { publicKey: 1 }).lean()]);
  if (!team) throw new AppError({ status: 404, code: 'team-not-found', message: 'No such team.' });
  if (!sharer) throw new AppError({ status: 401, code: 'unauthenticated', message: 'Log in first.' });
  if ((record.teams ?? []).some((t) => t.teamId === body.teamId)) {
    throw new AppError({ status: 409, code: 'already-recipient', message: 'This team can already read the record.' });
  }
  const grant = await checkTeamGrant({ signedGrant: body.signedGrant, signerPublicKey: sharer.publicKey });
  if (grant.recordId !== record._id || grant.teamId !== body.teamId || grant.grantedBy !== sharerId) {
    throw badGrant('The grant names another record, team or sharer.');
  }
  if (grant.genesis !== team.state.genesis) throw badGrant('The grant names another team with this id (its creation differs).');
  const { at, expiresAt } = grantTimes(grant);
  await checkPacketFor(body.pkesk, team.key.publicKey).catch((error: unknown) => {
    if (error instanceof AppError && error.code === 'recipient-mismatch') {
      throw new AppError({ status: 400, code: 'team-key-not-current', message: "The packet is not for the team's current key.", cause: error });
    }
    throw error;
  });
  const entry = { teamId: body.teamId, fingerprint: team.key.fingerprint, gen: team.key.gen };
  const [feedSeq = UNLISTED] = await s.listing.add(record._id, [teamFeedId(body.teamId)]);
  await spliceIn(s, record, {
    pkesk: body.pkesk,
    attachmentPackets: body.attachmentPackets,
    publicKey: team.key.publicKey,
    fields: (based) => ({ teams: [...(based.teams ?? []), entry], teamFeedSeqs: [...teamFeedSeqsOf(based), feedSeq] }),
  });
  await s.models.teamGrants.replaceOne(
    { _id: teamGrantId(record._id, body.teamId) },
    { recordId: record._id, teamId: body.teamId, grantedBy: sharerId, signedGrant: body.signedGrant, at, ...(expiresAt ? { expiresAt } : {}) },
    { upsert: true },
  );
  await recordChanged(s, record._id, record.readerIds);
  await appendAudit(s, { recordId: record._id, ownerId: record.ownerId, actorId: sharerId, action: 'share' });
  return { ...entry, name: team.state.name, practiceName: team.state.practiceName, signedGrant: body.signedGrant, grantedBy: sharerId, grantedAt: at.toISOString() };
}

/**
 * Stop sharing with a team: its members stop getting the record at once; the client then writes
 * a new version under a fresh session key without the team (DESIGN §6).
 * @throws AppError 404 `not-a-recipient`.
 */
export async function revokeTeamAccess(s: Services, record: RecordDoc, actorId: string, teamId: string): Promise<void> {
  let current: RecordDoc | null = record;
  for (let attempt = 0; ; attempt++) {
    if (!current) throw new AppError({ status: 404, code: 'record-not-found', message: 'No such record.' });
    const teams = current.teams ?? [];
    const i = teams.findIndex((t) => t.teamId === teamId);
    if (i < 0) throw new AppError({ status: 404, code: 'not-a-recipient', message: 'This team cannot read the record.' });
    const based: RecordDoc = current;
    const result = await withRevClaim(s, based, () =>
      s.models.records.updateOne(
        { _id: based._id, rev: based.rev },
        { $set: { teams: teams.filter((_, j) => j !== i), teamFeedSeqs: teamFeedSeqsOf(based).filter((_, j) => j !== i) }, $inc: { rev: 1 } },
      ),
    );
    if (result?.matchedCount === 1) break;
    if (attempt >= 4) throw new AppError({ status: 409, code: 'version-conflict', message: 'The record keeps changing; try again.' });
    current = await s.models.records.findById(record._id).lean();
  }
  await s.models.teamGrants.deleteOne({ _id: teamGrantId(record._id, teamId) });
  await recordChanged(s, record._id, record.readerIds);
  await appendAudit(s, { recordId: record._id, ownerId: record.ownerId, actorId, action: 'revoke' });
}

/**
 * Revoke: the user is taken off the record at once (the server stops serving it); the
 * client then writes a new version under a fresh session key (DESIGN §6).
 *
 * @throws AppError 400 `cannot-revoke-owner`, 404 `not-a-recipient`.
 */
export async function revokeAccess(s: Services, record: RecordDoc, actorId: string, userId: string): Promise<void> {
  if (userId === record.ownerId) throw new AppError({ status: 400, code: 'cannot-revoke-owner', message: "The owner's access cannot be revoked." });
  if (userId === actorId && record.ownerId !== actorId) {
    throw new AppError({ status: 400, code: 'cannot-revoke-self', message: 'Ask the owner to remove you.' });
  }
  let current: RecordDoc | null = record;
  for (let attempt = 0; ; attempt++) {
    if (!current) throw new AppError({ status: 404, code: 'record-not-found', message: 'No such record.' });
    if (!current.readerIds.includes(userId)) throw new AppError({ status: 404, code: 'not-a-recipient', message: 'This user cannot read the record.' });
    const based: RecordDoc = current;
    const result = await withRevClaim(s, based, () =>
      s.models.records.updateOne(
        { _id: based._id, rev: based.rev },
        {
          $set: {
            recipients: based.recipients.filter((r) => r.userId !== userId),
            readerIds: based.readerIds.filter((id) => id !== userId),
            feedSeqs: feedSeqsOf(based).filter((_, i) => based.readerIds[i] !== userId),
          },
          $inc: { rev: 1 },
        },
      ),
    );
    if (result?.matchedCount === 1) break;
    if (attempt >= 4) throw new AppError({ status: 409, code: 'version-conflict', message: 'The record keeps changing; try again.' });
    current = await s.models.records.findById(record._id).lean();
  }
  await s.models.grants.deleteOne({ _id: grantId(record._id, userId) });
  await recordChanged(s, record._id, record.readerIds);
  await appendAudit(s, { recordId: record._id, ownerId: record.ownerId, actorId, action: 'revoke' });
}

export async function listAccess(s: Services, record: RecordDoc): Promise<AccessListResponse> {
  const [users, grants] = await Promise.all([
    Promise.all(record.readerIds.map((id) => s.models.users.findById(id, { name: 1, role: 1, fingerprint: 1 }).lean())).then((us) => us.flatMap((u) => (u ? [u] : []))),
    findByIds(s.models.grants, record.readerIds.map((id) => grantId(record._id, id))),
  ]);
  const byId = new Map(users.map((u) => [u._id, u]));
  const entries: AccessEntry[] = [];
  for (const r of record.recipients) {
    const u = byId.get(r.userId);
    if (!u) continue;
    const grant = grants.get(grantId(record._id, r.userId));
    const via = r.userId === record.ownerId ? 'owner' : r.userId === record.creatorId ? 'author' : grant ? 'grant' : 'recipient';
    entries.push({
      userId: u._id,
      name: u.name,
      role: u.role,
      fingerprint: r.fingerprint,
      via,
      ...(grant ? { signedGrant: grant.signedGrant, grantedBy: grant.grantedBy, grantedAt: grant.at.toISOString() } : {}),
    });
  }
  return { entries, teams: await teamEntries(s, record) };
}

/** The record's teams with their grants (a team the author wrote the record for has none). */
async function teamEntries(s: Services, record: RecordDoc): Promise<TeamAccessEntry[]> {
  const teams = record.teams ?? [];
  const [states, grants] = await Promise.all([
    Promise.all(teams.map((t) => teamForRecords(s, t.teamId))),
    Promise.all(teams.map((t) => s.models.teamGrants.findById(teamGrantId(record._id, t.teamId)).lean())),
  ]);
  return teams.map((t, i) => {
    const state = states[i]?.state;
    const grant = grants[i];
    return {
      teamId: t.teamId,
      name: state?.name ?? '',
      practiceName: state?.practiceName ?? '',
      fingerprint: t.fingerprint,
      gen: t.gen,
      ...(grant ? { signedGrant: grant.signedGrant, grantedBy: grant.grantedBy, grantedAt: grant.at.toISOString() } : {}),
    };
  });
}
