import type { AccessEntry, AccessListResponse, GrantRequest } from '@medseal/contract';
import { AppError } from '../../lib/errors';
import { checkGrant, checkPacketFor, checkPublicKey, splicePacket } from '../../lib/pgp';
import type { Services } from '../../services';
import { appendAudit } from '../audit/use-cases';
import { addAttachmentPacket } from '../records/attachments';
import { recordChanged } from '../records/access';
import { grantId } from './model';
import type { RecordDoc } from '../records/model';
import { withRevClaim } from '../records/rev-claim';
import { feedSeqsOf, UNLISTED } from '../records/feed';
import { findByIds } from '../../lib/store';

const GRANT_CLOCK_SKEW_MS = 10 * 60 * 1000;

const badGrant = (message: string) => new AppError({ status: 400, code: 'bad-grant', message });

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
  const at = new Date(grant.at);
  if (Number.isNaN(at.getTime()) || Math.abs(at.getTime() - Date.now()) > GRANT_CLOCK_SKEW_MS) throw badGrant('The grant time is not now.');
  const expiresAt = grant.expiresAt === undefined ? undefined : new Date(grant.expiresAt);
  if (expiresAt && (Number.isNaN(expiresAt.getTime()) || expiresAt.getTime() <= Date.now())) throw badGrant('The grant has already expired.');

  await checkPacketFor(body.pkesk, grantee.publicKey);
  const granteeKeyIds = (await checkPublicKey(grantee.publicKey)).encryptionKeyIds;
  const listed = await s.models.attachments.find({ recordId: record._id }, { _id: 1 }).lean();
  for (const [id, packet] of Object.entries(body.attachmentPackets ?? {})) {
    if (!listed.some((a) => a._id === id)) throw badGrant('A packet names an attachment the record does not have.');
    await checkPacketFor(packet, grantee.publicKey);
  }

  const entry = { userId: grantee._id, fingerprint: grantee.fingerprint };
  // The grantee's listing entry first (one of a failed share is skipped as stale).
  const [feedSeq = UNLISTED] = await s.listing.add(record._id, [grantee._id]);
  let current: RecordDoc | null = record;
  for (let attempt = 0; ; attempt++) {
    if (!current) throw new AppError({ status: 404, code: 'record-not-found', message: 'No such record.' });
    const message = await splicePacket(current.message, body.pkesk, granteeKeyIds);
    const based: RecordDoc = current;
    const result = await withRevClaim(s, based, async () => {
      // Attachments first, so by the time the grantee can read the record they can open its files.
      for (const a of await s.models.attachments.find({ recordId: record._id }).lean()) {
        await addAttachmentPacket(s, a, body.attachmentPackets?.[a._id] ?? body.pkesk, granteeKeyIds);
      }
      return s.models.records.updateOne(
        { _id: based._id, rev: based.rev },
        { $set: { message, recipients: [...based.recipients, entry], readerIds: [...based.readerIds, grantee._id], feedSeqs: [...feedSeqsOf(based), feedSeq] }, $inc: { rev: 1 } },
      );
    });
    if (result?.matchedCount === 1) break;
    if (attempt >= 4) throw new AppError({ status: 409, code: 'version-conflict', message: 'The record keeps changing; try again.' });
    current = await s.models.records.findById(record._id).lean();
  }
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
  return { entries };
}
