// Re-keying a record after its care team's key changed (DESIGN §13, docs/care-teams.md
// "Re-keying records after a rotation"): a team admin's new version that keeps the readers and
// the content and moves the team to its current key, without the patient's consent to write.
import type { RecordDto, RekeyRecordRequest } from '@medseal/contract';
import { MAX_REKEY_MESSAGE_CHARS } from '@medseal/contract';
import { AppError } from '../../lib/errors';
import { checkMessage, checkPacketFor } from '../../lib/pgp';
import type { Services } from '../../services';
import { appendAudit } from '../audit/use-cases';
import { teamForRecords } from '../teams/use-cases';
import { recordChanged } from './access';
import { listAttachments } from './attachment-list';
import { addAttachmentPackets, dropAttachmentPackets, teamKeyMove } from './attachments';
import type { RecordDoc } from './model';
import {
  attachmentsOf,
  resolveRecipients,
  storeNextVersion,
  toRecordDto,
  versionConflict,
} from './use-cases';

/**
 * A team admin re-keys the current version after the team's key changed (docs/care-teams.md
 * "Re-keying"). Needs no consent to write: a re-key cannot change what the record says. The
 * server keeps what it can tell apart: the readers and teams are the base's (taken from the
 * stored record, not from the request), every team moves to its current key, the author stays
 * the base's, the message is only packets plus a statement (its size caps what it could carry),
 * and each file gets the new team key's packet in place of the retired ones'. Clients check the
 * rest: the statement is signed by a current admin and its base opens to the same content.
 * @throws AppError 409 `version-conflict`, `already-rekeyed`, `other-team-behind` (the record
 *   has files and another of its teams is behind its key too); 403 `not-team-admin`; 400
 *   `team-not-granted`, `rekey-carries-content`, `rekey-attachments-mismatch`, message codes,
 *   `fingerprint-mismatch` (a reader's key changed since); 404 `team-not-found`.
 */
export async function rekeyRecord(
  s: Services,
  record: RecordDoc,
  actorId: string,
  body: RekeyRecordRequest,
): Promise<RecordDto> {
  if (body.baseVersion !== record.version) throw versionConflict(record);
  const granted = record.teams ?? [];
  const entry = granted.find((t) => t.teamId === body.teamId);
  if (!entry)
    throw new AppError({
      status: 400,
      code: 'team-not-granted',
      message: 'The record is not shared with this team.',
    });
  const resolved = await Promise.all(granted.map((t) => teamForRecords(s, t.teamId)));
  const team = resolved[granted.indexOf(entry)];
  if (!team || resolved.some((t) => !t))
    throw new AppError({
      status: 404,
      code: 'team-not-found',
      message: 'No such team.',
      details: { teamId: body.teamId },
    });
  const caller = await s.models.users.findById(actorId, { fingerprint: 1 }).lean();
  const admin = team.state.members.find((m) => m.userId === actorId && m.admin);
  if (!admin || admin.fingerprint !== caller?.fingerprint)
    throw new AppError({
      status: 403,
      code: 'not-team-admin',
      message: 'Only a current admin of the team re-keys its records.',
    });
  if (entry.gen >= team.key.gen)
    throw new AppError({
      status: 409,
      code: 'already-rekeyed',
      message: 'The record already uses the team’s current key.',
    });
  if (body.message.length > MAX_REKEY_MESSAGE_CHARS)
    throw new AppError({
      status: 400,
      code: 'rekey-carries-content',
      message:
        'A re-key holds only a signed statement and packets; this message is too large to be one.',
    });
  const teams = resolved.flatMap((t) => (t ? [t] : []));
  const keys = await resolveRecipients(s, record.recipients, record.ownerId, record.authorId, true);
  await checkMessage(
    body.message,
    [...keys, ...teams.map((t) => t.key.publicKey)],
    MAX_REKEY_MESSAGE_CHARS,
  );
  const files = await listAttachments(s.models, record._id);
  // Every team moves to its current key, but the files get packets for this team's only: another
  // team behind would be moved without them, and its own re-key then refused (docs/care-teams.md
  // "Two teams behind on a record with files").
  if (
    files.length > 0 &&
    granted.some((t, i) => t !== entry && t.gen < (resolved[i]?.key.gen ?? 0))
  )
    throw new AppError({
      status: 409,
      code: 'other-team-behind',
      message:
        'Another care team of this record changed its key too; its files need that team’s new packets first.',
    });
  const packets = body.attachmentPackets ?? {};
  if (
    Object.keys(packets).length !== files.length ||
    files.some((f) => packets[f._id] === undefined)
  ) {
    throw new AppError({
      status: 400,
      code: 'rekey-attachments-mismatch',
      message:
        'A re-key brings the new team key’s packet for each file of the record, and no other.',
    });
  }
  for (const f of files) await checkPacketFor(packets[f._id] ?? '', team.key.publicKey);
  const move = await teamKeyMove(team, packets);
  // The files' writes in an order no failure between two of them can hurt (FerretDB v1 has no
  // transactions, DESIGN §9; docs/care-teams.md "Re-keying"): the new key's packets first, under
  // the rev claim, then the version (the commit), and only then the retired keys' packets off.
  const updated = await storeNextVersion(s, record, {
    authorId: record.authorId,
    rekeyedBy: actorId,
    recipients: record.recipients.map((r) => ({ userId: r.userId, fingerprint: r.fingerprint })),
    teams: teams.map((t) => ({
      teamId: t.state.teamId,
      fingerprint: t.key.fingerprint,
      gen: t.key.gen,
    })),
    message: body.message,
    beforeCommit: () => addAttachmentPackets(s, record._id, [move]),
  });
  await recordChanged(s, record._id, record.readerIds);
  await appendAudit(s, {
    recordId: record._id,
    ownerId: record.ownerId,
    actorId,
    action: 'update',
  });
  if (files.length > 0) {
    await dropAttachmentPackets(s, record._id, [move]);
    // Their sizes changed.
    await recordChanged(s, record._id, []);
  }
  return toRecordDto(updated, await attachmentsOf(s, record._id));
}
