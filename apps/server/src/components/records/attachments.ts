import { setTimeout as sleep } from 'node:timers/promises';
import type { Response } from 'express';
import type { AttachmentInfo, AttachmentPacketsResponse } from '@medseal/contract';
import { MAX_ATTACHMENT_BYTES } from '@medseal/contract';
import { toBuffer } from '../../lib/bytes';
import { DB_TIMEOUTS } from '../../lib/db';
import { deleteByIds } from '../../lib/store';
import { AppError } from '../../lib/errors';
import { newId } from '../../lib/ids';
import {
  addPacketTo,
  checkMessage,
  checkPacketFor,
  checkPublicKey,
  packetKeyId,
  packetsNotFor,
  recipientPacketsOf,
  splitMessage,
} from '../../lib/pgp';
import type { Services } from '../../services';
import { appendAudit } from '../audit/use-cases';
import { teamForRecords, type RecordTeam } from '../teams/use-cases';
import { recordChanged, recordNotFound } from './access';
import { linkAttachment, listAttachments } from './attachment-list';
import {
  chunkId,
  chunkIds,
  storedChunkIds,
  toAttachmentInfo,
  type AttachmentDoc,
  type RecordDoc,
} from './model';
import { withRevClaim } from './rev-claim';

/** 1 MiB chunks: far below the 16 MiB document limit, few round trips. */
export const CHUNK_BYTES = 1024 * 1024;

const fileReadersChanged = () =>
  new AppError({
    status: 409,
    code: 'version-conflict',
    message: 'The record’s readers changed while the file was stored; encrypt it again and resend.',
  });

const attachmentNotFound = () =>
  new AppError({ status: 404, code: 'attachment-not-found', message: 'No such attachment.' });

/** The record's attachment `attachmentId`, by `_id` (DESIGN §9). @throws AppError 404 `attachment-not-found`. */
async function attachmentOf(
  s: Services,
  record: RecordDoc,
  attachmentId: string,
): Promise<AttachmentDoc> {
  const a = await s.models.attachments.findById(attachmentId).lean();
  if (a?.recordId !== record._id) throw attachmentNotFound();
  return a;
}

/**
 * The keys a file of `record` must be sealed to, exactly: its readers' and each of its care teams'
 * at the team's current key (DESIGN §13), as its next version will be; and the teams' retired
 * keys, to tell a writer whose tab missed a rotation why her file was refused.
 * @throws AppError 404 `team-not-found` (a team whose state cannot be settled: fail closed).
 */
async function fileRecipients(
  s: Services,
  record: RecordDoc,
): Promise<{ keys: string[]; retiredTeamKeys: string[] }> {
  const [users, teams] = await Promise.all([
    Promise.all(record.readerIds.map((id) => s.userKeys.of(id))),
    Promise.all((record.teams ?? []).map((t) => teamForRecords(s, t.teamId))),
  ]);
  const found = teams.flatMap((t) => (t ? [t] : []));
  if (found.length !== teams.length)
    throw new AppError({ status: 404, code: 'team-not-found', message: 'No such team.' });
  return {
    keys: [...users.flatMap((u) => (u ? [u.publicKey] : [])), ...found.map((t) => t.key.publicKey)],
    retiredTeamKeys: found.flatMap((t) => t.retiredKeys),
  };
}

/**
 * Checks an uploaded file is sealed to exactly the keys fileRecipients gives. A file sealed to a
 * team's retired key is `team-key-not-current` (as for a version), which the web app answers by
 * reading the team again and sealing once more.
 * @throws AppError 400 message check codes, `team-key-not-current`; 404 `team-not-found`.
 */
async function checkFileRecipients(
  s: Services,
  record: RecordDoc,
  message: Uint8Array,
): Promise<void> {
  const { keys, retiredTeamKeys } = await fileRecipients(s, record);
  try {
    await checkMessage(message, keys, MAX_ATTACHMENT_BYTES);
  } catch (error) {
    if (!(error instanceof AppError) || error.code !== 'recipient-mismatch') throw error;
    const retiredIds = await encryptionKeyIdsOf(retiredTeamKeys);
    const packets = recipientPacketsOf(message);
    if (packetsNotFor(packets, retiredIds).length === packets.length) throw error;
    throw new AppError({
      status: 400,
      code: 'team-key-not-current',
      message: "The file is sealed to a care team's retired key, not its current one.",
      cause: error,
    });
  }
}

/** Writes `data` as chunks of generation `gen`. */
export async function writeChunks(
  s: Services,
  input: { attachmentId: string; recordId: string; gen: number; data: Buffer },
): Promise<number> {
  const docs = [];
  for (let n = 0, off = 0; off < input.data.length || n === 0; n++, off += CHUNK_BYTES) {
    docs.push({
      _id: chunkId(input.attachmentId, input.gen, n),
      attachmentId: input.attachmentId,
      recordId: input.recordId,
      gen: input.gen,
      n,
      data: input.data.subarray(off, off + CHUNK_BYTES),
    });
  }
  for (const doc of docs) await s.models.chunks.create(doc);
  return docs.length;
}

export async function readAttachmentBytes(s: Services, a: AttachmentDoc): Promise<Buffer> {
  const parts: Buffer[] = [];
  for (let n = 0; n < a.chunkCount; n++) {
    const chunk = await s.models.chunks.findById(chunkId(a._id, a.gen, n)).lean();
    if (!chunk)
      throw new AppError({
        status: 500,
        code: 'attachment-incomplete',
        message: 'A stored attachment is incomplete.',
      });
    parts.push(toBuffer(chunk.data));
  }
  return Buffer.concat(parts);
}

/**
 * Stores a binary OpenPGP message after checking it is encrypted to exactly the record's
 * current readers and teams (same rule as the record message: checkFileRecipients): its session
 * key packets in the attachment document, the rest in chunks (see AttachmentDoc).
 *
 * @throws AppError 400 message check codes, `team-key-not-current`; 404 `team-not-found`,
 *   `record-not-found` (deleted while the file was stored); 409 `version-conflict` (the record
 *   changed while it was stored).
 */
export async function uploadAttachment(
  s: Services,
  record: RecordDoc,
  actorId: string,
  data: Buffer,
): Promise<AttachmentInfo> {
  const message = new Uint8Array(data.buffer, data.byteOffset, data.byteLength);
  await checkFileRecipients(s, record, message);
  const { packets, body } = await splitMessage(message);
  const id = newId();
  // Linked first: a failure after this leaves a link that names nothing, never an unlisted file.
  await linkAttachment(s.models, record._id, id);
  const chunkCount = await writeChunks(s, {
    attachmentId: id,
    recordId: record._id,
    gen: 1,
    data: toBuffer(body),
  });
  const doc: AttachmentDoc = {
    _id: id,
    recordId: record._id,
    size: data.length,
    chunkCount,
    gen: 1,
    createdAt: new Date(),
    packets,
  };
  // Stored under the record's rev claim, only while the record is still at the rev its readers
  // were checked at: a share, revoke or re-key lists the record's files under that claim too, so
  // it lists this one, or the readers it was encrypted to are still the record's (before, a
  // share that listed the files while this one was written left its new reader without a packet
  // for it; a revoke, a file still encrypted to the revoked reader).
  const stored = await storeWhileUnchanged(s, record, () => s.models.attachments.create(doc));
  // A permanent delete (it takes no claim) that read the record's files before this one was
  // stored left it behind: once the record is gone, the file goes. A delete of the record after
  // this look reads its files after it too, this one included.
  const gone = !(await s.models.records.exists({ _id: record._id }));
  if (!stored || gone) {
    // Its link stays, naming nothing: deleting it could break the chain a delete still follows.
    await deleteByIds(s.models.chunks, storedChunkIds(doc));
    if (stored) await s.models.attachments.deleteOne({ _id: id });
    throw gone ? recordNotFound() : fileReadersChanged();
  }
  // No reader is told: a file reaches them through the version that names it, which tells them.
  await recordChanged(s, record._id, []);
  await appendAudit(s, {
    recordId: record._id,
    ownerId: record.ownerId,
    actorId,
    action: 'attach',
  });
  return toAttachmentInfo(doc);
}

/**
 * Runs `write` under the record's rev claim while the record is still at `record.rev`: other
 * uploads to it take that claim too, each for one insert, so one that finds it held looks again
 * (for up to one operation's timeout) until the record moves on.
 */
async function storeWhileUnchanged<T>(
  s: Services,
  record: RecordDoc,
  write: () => Promise<T>,
): Promise<T | undefined> {
  const until = Date.now() + DB_TIMEOUTS.timeoutMS;
  for (;;) {
    const written = await withRevClaim(s, record, write);
    if (written !== undefined || Date.now() >= until) return written;
    const now = await s.models.records.findById(record._id, { rev: 1 }).lean();
    if (now?.rev !== record.rev) return undefined;
    await sleep(HELD_CLAIM_LOOK_MS);
  }
}

/** How often an upload looks again at a record whose claim another upload holds. */
const HELD_CLAIM_LOOK_MS = 5;

/** Streams the chunks one by one as application/octet-stream, Content-Disposition: attachment. */
export async function downloadAttachment(
  s: Services,
  record: RecordDoc,
  actorId: string,
  attachmentId: string,
  res: Response,
): Promise<void> {
  const a = await attachmentOf(s, record, attachmentId);
  await appendAudit(s, {
    recordId: record._id,
    ownerId: record.ownerId,
    actorId,
    action: 'read-attachment',
  });
  res.status(200);
  res.setHeader('Content-Type', 'application/octet-stream');
  res.setHeader('Content-Disposition', `attachment; filename="${a._id}.pgp"`);
  res.setHeader('Content-Length', String(a.size));
  res.write(packetBytes(a.packets ?? []));
  for (let n = 0; n < a.chunkCount; n++) {
    const chunk = await s.models.chunks.findById(chunkId(a._id, a.gen, n)).lean();
    if (!chunk) {
      res.destroy(new Error('attachment chunk missing'));
      return;
    }
    if (!res.write(toBuffer(chunk.data)))
      await new Promise<void>((done) => res.once('drain', done));
  }
  res.end();
}

/**
 * The session key packets of an attachment, for a sharer to make the grantee's packet without
 * downloading the file. Not an audited read: the packets are in every reader's copy and say no
 * more than the access list.
 * @throws AppError 404 `attachment-not-found`.
 */
export async function attachmentPackets(
  s: Services,
  record: RecordDoc,
  attachmentId: string,
): Promise<AttachmentPacketsResponse> {
  return { packets: await packetsOf(s, await attachmentOf(s, record, attachmentId)) };
}

/** A file's packets (one an earlier version stored whole: read from its chunks). */
const packetsOf = async (s: Services, a: AttachmentDoc) =>
  a.packets ?? recipientPacketsOf(await readAttachmentBytes(s, a));

const packetBytes = (packets: readonly string[]) =>
  Buffer.concat(packets.map((p) => Buffer.from(p, 'base64url')));

/**
 * Adds `pkesk` to an attachment's packets (unless it has one for `recipientKeyIds`); the chunks
 * are not touched, so sharing a 20 MiB file writes ~100 bytes. Run only under the record's rev
 * claim, which keeps two grants from writing one list at once (FerretDB v1 can let both of two
 * racing updates through). An attachment stored whole by an earlier version is split first,
 * once: its chunks are rewritten without the packets.
 * @throws AppError 400 packet codes; 500 `attachment-incomplete`.
 */
export async function addAttachmentPacket(
  s: Services,
  listed: AttachmentDoc,
  pkesk: string,
  recipientKeyIds: readonly string[],
): Promise<void> {
  const a = listed.packets
    ? { ...listed, packets: listed.packets }
    : await splitStoredAttachment(s, listed);
  const packets = await addPacketTo(a.packets, pkesk, recipientKeyIds);
  if (packets.length === a.packets.length) return;
  await s.models.attachments.updateOne(
    { _id: a._id },
    { $set: { packets, size: a.size + Buffer.from(pkesk, 'base64url').length } },
  );
}

/** The encryption key ids of `publicKeys` (checked). */
async function encryptionKeyIdsOf(publicKeys: readonly string[]): Promise<string[]> {
  return (
    await Promise.all(publicKeys.map(async (k) => (await checkPublicKey(k)).encryptionKeyIds))
  ).flat();
}

/**
 * A care team whose key a version moves to its current one (a re-key, or a member's edit after a
 * rotation the re-key has not reached), with the packets for that key the version brings for the
 * record's files.
 */
export interface TeamKeyMove {
  /** Encryption key ids of the team's current key. */
  keyIds: readonly string[];
  /** Encryption key ids of its retired keys. */
  retiredKeyIds: readonly string[];
  /** Per file id, the packet for the current key (checked already). */
  packets: Readonly<Record<string, string>>;
}

export async function teamKeyMove(
  team: Pick<RecordTeam, 'key' | 'retiredKeys'>,
  packets: Readonly<Record<string, string>>,
): Promise<TeamKeyMove> {
  return {
    keyIds: await encryptionKeyIdsOf([team.key.publicKey]),
    retiredKeyIds: await encryptionKeyIdsOf(team.retiredKeys),
    packets,
  };
}

/**
 * The moves of a version that brings teams to their current keys (`moved`, updateRecord): per
 * team, the packets `given` holds for it, each checked to be for that team's current key. Every
 * file the record lists that has no packet for a moved team's current key must get one: left
 * with the retired key's only, its readers at the new generation (a newcomer) could never open
 * it, and the team's re-key, which skips a record whose teams are current, would not add it. A
 * file the version drops is still listed (the client deletes it after the version), so it too.
 * @throws AppError 400 `attachment-packets-mismatch` (a file the record lacks; a packet for no
 *   team the version moves, or a second one for a team; packets though no team moves; a file
 *   left without a moved team's current key), packet codes.
 */
export async function keptFilePackets(
  s: Services,
  recordId: string,
  given: Readonly<Record<string, readonly string[]>> | undefined,
  moved: readonly RecordTeam[],
): Promise<TeamKeyMove[]> {
  const mismatch = (message: string) =>
    new AppError({ status: 400, code: 'attachment-packets-mismatch', message });
  const files = Object.entries(given ?? {});
  if (files.length > 0 && moved.length === 0)
    throw mismatch(
      'Packets for files come only with a version that moves a care team to its new key.',
    );
  const attachments = moved.length > 0 ? await listAttachments(s.models, recordId) : [];
  const listed = new Set(attachments.map((a) => a._id));
  const moves = await Promise.all(moved.map((t) => teamKeyMove(t, {})));
  const perTeam = moved.map((): Record<string, string> => ({}));
  for (const [fileId, packets] of files) {
    if (!listed.has(fileId)) throw mismatch('A packet names a file the record does not have.');
    for (const pkesk of packets) {
      const keyId = await packetKeyId(pkesk);
      const i = moves.findIndex((m) => m.keyIds.includes(keyId));
      const team = moved[i];
      const mine = perTeam[i];
      if (!team || !mine || mine[fileId] !== undefined)
        throw mismatch(
          'A file has a packet for no team the version moves to its new key, or two for one.',
        );
      await checkPacketFor(pkesk, team.key.publicKey);
      mine[fileId] = pkesk;
    }
  }
  for (const [i, m] of moves.entries()) {
    for (const a of attachments) {
      if (perTeam[i]?.[a._id] !== undefined) continue;
      const packets = await packetsOf(s, a);
      if (packetsNotFor(packets, m.keyIds).length < packets.length) continue;
      throw mismatch(
        'A version that moves a care team to its new key brings that key’s packet for each file of the record.',
      );
    }
  }
  return moves.map((m, i) => ({ ...m, packets: perTeam[i] ?? {} }));
}

/**
 * The first write for files of a version that moves teams to their new keys, run under the
 * record's rev claim just before the version is stored: each file listed now gets each move's
 * packet for it, unless it has one for that key. The retired keys' packets stay: until the version
 * is stored, the current one is sealed to a retired key and its readers open the files with it.
 */
export async function addAttachmentPackets(
  s: Services,
  recordId: string,
  moves: readonly TeamKeyMove[],
): Promise<void> {
  // A file read afresh for each move: addAttachmentPacket writes the list it is given, plus one.
  for (const m of moves) {
    for (const a of await listAttachments(s.models, recordId)) {
      const pkesk = m.packets[a._id];
      if (pkesk !== undefined) await addAttachmentPacket(s, a, pkesk, m.keyIds);
    }
  }
}

/** How many times dropAttachmentPackets reads the record again when another change holds it. */
const DROP_ATTEMPTS = 5;

/**
 * The last write for files of a version that moved teams to their new keys, once it is stored:
 * off each file that has a packet for a team's current key, every packet for one of that team's
 * retired keys, so a retired key opens no file. Under the record's rev claim, as every write of a
 * file's packets (a share racing it would otherwise lose its packet), for the record as it is now;
 * read again when another change holds the claim. Left undone (that keeps failing, or the process
 * dies first), the retired packets stay until the team's next re-key of the record: they open
 * only what their holder could open before she left (docs/care-teams.md "The order of a re-key's
 * writes").
 */
export async function dropAttachmentPackets(
  s: Services,
  recordId: string,
  moves: readonly TeamKeyMove[],
): Promise<void> {
  const revOf = async () => (await s.models.records.findById(recordId, { rev: 1 }).lean())?.rev;
  for (let attempt = 0; attempt < DROP_ATTEMPTS; attempt++) {
    const rev = await revOf();
    if (rev === undefined) return;
    // withRevClaim runs this only while the record is still at `rev`: the claim keeps out the
    // writer of the next rev only then.
    const done = await withRevClaim(s, { _id: recordId, rev }, async () => {
      for (const a of await listAttachments(s.models, recordId)) {
        const packets = a.packets ?? [];
        let kept = packets;
        for (const m of moves) {
          const hasCurrent = packetsNotFor(kept, m.keyIds).length < kept.length;
          if (hasCurrent) kept = packetsNotFor(kept, m.retiredKeyIds);
        }
        if (kept.length === packets.length) continue;
        const dropped = packets.filter((p) => !kept.includes(p));
        await s.models.attachments.updateOne(
          { _id: a._id },
          { $set: { packets: kept, size: a.size - packetBytes(dropped).length } },
        );
      }
      return true;
    });
    if (done) return;
  }
}

async function splitStoredAttachment(
  s: Services,
  a: AttachmentDoc,
): Promise<AttachmentDoc & { packets: string[] }> {
  const { packets, body } = await splitMessage(await readAttachmentBytes(s, a));
  const gen = a.gen + 1;
  const chunkCount = await writeChunks(s, {
    attachmentId: a._id,
    recordId: a.recordId,
    gen,
    data: toBuffer(body),
  });
  await s.models.attachments.updateOne(
    { _id: a._id, gen: a.gen },
    { $set: { gen, chunkCount, packets } },
  );
  await s.models.chunks.deleteMany({ _id: { $in: chunkIds(a._id, a.gen, a.chunkCount) } });
  return { ...a, gen, chunkCount, packets };
}

export async function deleteAttachment(
  s: Services,
  record: RecordDoc,
  actorId: string,
  attachmentId: string,
): Promise<void> {
  const a = await attachmentOf(s, record, attachmentId);
  const result = await s.models.attachments.deleteOne({ _id: attachmentId });
  if (result.deletedCount !== 1) throw attachmentNotFound();
  // By `_id`: a `attachmentId` filter loads every chunk of every file on FerretDB v1.
  await deleteByIds(s.models.chunks, storedChunkIds(a));
  // No reader is told: a file reaches them through the version that names it, which tells them.
  await recordChanged(s, record._id, []);
  await appendAudit(s, {
    recordId: record._id,
    ownerId: record.ownerId,
    actorId,
    action: 'delete-attachment',
  });
}
