import type { Response } from 'express';
import type { AttachmentInfo, AttachmentPacketsResponse } from '@medseal/contract';
import { MAX_ATTACHMENT_BYTES } from '@medseal/contract';
import { toBuffer } from '../../lib/bytes';
import { deleteByIds } from '../../lib/store';
import { AppError } from '../../lib/errors';
import { newId } from '../../lib/ids';
import {
  addPacketTo,
  checkMessage,
  packetsNotFor,
  recipientPacketsOf,
  splitMessage,
} from '../../lib/pgp';
import type { Services } from '../../services';
import { appendAudit } from '../audit/use-cases';
import { recordChanged } from './access';
import { linkAttachment } from './attachment-list';
import { chunkId, chunkIds, storedChunkIds, type AttachmentDoc, type RecordDoc } from './model';
import { toAttachmentInfo } from './use-cases';

/** 1 MiB chunks: far below the 16 MiB document limit, few round trips. */
export const CHUNK_BYTES = 1024 * 1024;

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

/** Public keys of everyone the record's message is encrypted to now. */
export async function recipientKeys(s: Services, record: RecordDoc): Promise<string[]> {
  const users = await Promise.all(
    record.readerIds.map((id) => s.models.users.findById(id, { publicKey: 1 }).lean()),
  );
  return users.flatMap((u) => (u ? [u.publicKey] : []));
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
 * current recipients (same rule as the record message): its session key packets in the
 * attachment document, the rest in chunks (see AttachmentDoc).
 *
 * @throws AppError 400 message check codes.
 */
export async function uploadAttachment(
  s: Services,
  record: RecordDoc,
  actorId: string,
  data: Buffer,
): Promise<AttachmentInfo> {
  const keys = await recipientKeys(s, record);
  const message = new Uint8Array(data.buffer, data.byteOffset, data.byteLength);
  await checkMessage(message, keys, MAX_ATTACHMENT_BYTES);
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
  await s.models.attachments.create(doc);
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
  const a = await attachmentOf(s, record, attachmentId);
  return { packets: a.packets ?? recipientPacketsOf(await readAttachmentBytes(s, a)) };
}

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

/**
 * A re-key's file packets (records/use-cases `rekeyRecord`): `pkesk` (checked already) in, every
 * packet for one of `retiredKeyIds` out, so the retired team key opens no file of the record.
 */
export async function replaceAttachmentPacket(
  s: Services,
  listed: AttachmentDoc,
  pkesk: string,
  retiredKeyIds: readonly string[],
): Promise<void> {
  const a = listed.packets
    ? { ...listed, packets: listed.packets }
    : await splitStoredAttachment(s, listed);
  const kept = packetsNotFor(a.packets, retiredKeyIds);
  const packets = await addPacketTo(kept, pkesk, []);
  const size =
    a.size +
    packets.reduce((n, p) => n + Buffer.from(p, 'base64url').length, 0) -
    a.packets.reduce((n, p) => n + Buffer.from(p, 'base64url').length, 0);
  await s.models.attachments.updateOne({ _id: a._id }, { $set: { packets, size } });
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
