import type { Response } from 'express';
import type { AttachmentInfo, AttachmentPacketsResponse } from '@medseal/contract';
import { MAX_ATTACHMENT_BYTES } from '@medseal/contract';
import { toBuffer } from '../../lib/bytes';
import { AppError } from '../../lib/errors';
import { newId } from '../../lib/ids';
import { checkMessage, recipientPacketsOf } from '../../lib/pgp';
import type { Services } from '../../services';
import { appendAudit } from '../audit/use-cases';
import { recordChanged } from './access';
import type { AttachmentDoc, RecordDoc } from './model';
import { toAttachmentInfo } from './use-cases';

/** 1 MiB chunks: far below the 16 MiB document limit, few round trips. */
export const CHUNK_BYTES = 1024 * 1024;

const attachmentNotFound = () => new AppError({ status: 404, code: 'attachment-not-found', message: 'No such attachment.' });

/** Public keys of everyone the record's message is encrypted to now. */
export async function recipientKeys(s: Services, record: RecordDoc): Promise<string[]> {
  const users = await Promise.all(record.readerIds.map((id) => s.models.users.findById(id, { publicKey: 1 }).lean()));
  return users.flatMap((u) => (u ? [u.publicKey] : []));
}

/** Writes `data` as chunks of generation `gen`. */
export async function writeChunks(s: Services, input: { attachmentId: string; recordId: string; gen: number; data: Buffer }): Promise<number> {
  const docs = [];
  for (let n = 0, off = 0; off < input.data.length || n === 0; n++, off += CHUNK_BYTES) {
    docs.push({ _id: `${input.attachmentId}:${input.gen}:${n}`, attachmentId: input.attachmentId, recordId: input.recordId, gen: input.gen, n, data: input.data.subarray(off, off + CHUNK_BYTES) });
  }
  for (const doc of docs) await s.models.chunks.create(doc);
  return docs.length;
}

export async function readAttachmentBytes(s: Services, a: AttachmentDoc): Promise<Buffer> {
  const parts: Buffer[] = [];
  for (let n = 0; n < a.chunkCount; n++) {
    const chunk = await s.models.chunks.findById(`${a._id}:${a.gen}:${n}`).lean();
    if (!chunk) throw new AppError({ status: 500, code: 'attachment-incomplete', message: 'A stored attachment is incomplete.' });
    parts.push(toBuffer(chunk.data));
  }
  return Buffer.concat(parts);
}

/**
 * Stores a binary OpenPGP message after checking it is encrypted to exactly the record's
 * current recipients (same rule as the record message).
 *
 * @throws AppError 400 message check codes.
 */
export async function uploadAttachment(s: Services, record: RecordDoc, actorId: string, data: Buffer): Promise<AttachmentInfo> {
  const keys = await recipientKeys(s, record);
  await checkMessage(new Uint8Array(data.buffer, data.byteOffset, data.byteLength), keys, MAX_ATTACHMENT_BYTES);
  const id = newId();
  const chunkCount = await writeChunks(s, { attachmentId: id, recordId: record._id, gen: 1, data });
  const doc: AttachmentDoc = { _id: id, recordId: record._id, size: data.length, chunkCount, gen: 1, createdAt: new Date() };
  await s.models.attachments.create(doc);
  await recordChanged(s, record._id);
  await appendAudit(s, { recordId: record._id, ownerId: record.ownerId, actorId, action: 'attach' });
  return toAttachmentInfo(doc);
}

/** Streams the chunks one by one as application/octet-stream, Content-Disposition: attachment. */
export async function downloadAttachment(s: Services, record: RecordDoc, actorId: string, attachmentId: string, res: Response): Promise<void> {
  const a = await s.models.attachments.findOne({ _id: attachmentId, recordId: record._id }).lean();
  if (!a) throw attachmentNotFound();
  await appendAudit(s, { recordId: record._id, ownerId: record.ownerId, actorId, action: 'read-attachment' });
  res.status(200);
  res.setHeader('Content-Type', 'application/octet-stream');
  res.setHeader('Content-Disposition', `attachment; filename="${a._id}.pgp"`);
  res.setHeader('Content-Length', String(a.size));
  for (let n = 0; n < a.chunkCount; n++) {
    const chunk = await s.models.chunks.findById(`${a._id}:${a.gen}:${n}`).lean();
    if (!chunk) {
      res.destroy(new Error('attachment chunk missing'));
      return;
    }
    if (!res.write(toBuffer(chunk.data))) await new Promise<void>((done) => res.once('drain', done));
  }
  res.end();
}

/**
 * The session key packets of an attachment, for a sharer to make the grantee's packet without
 * downloading the file. Not an audited read: the packets are in every reader's copy and say no
 * more than the access list.
 * @throws AppError 404 `attachment-not-found`.
 */
export async function attachmentPackets(s: Services, record: RecordDoc, attachmentId: string): Promise<AttachmentPacketsResponse> {
  const a = await s.models.attachments.findOne({ _id: attachmentId, recordId: record._id }).lean();
  if (!a) throw attachmentNotFound();
  return { packets: recipientPacketsOf(await readAttachmentBytes(s, a)) };
}

export async function deleteAttachment(s: Services, record: RecordDoc, actorId: string, attachmentId: string): Promise<void> {
  const result = await s.models.attachments.deleteOne({ _id: attachmentId, recordId: record._id });
  if (result.deletedCount !== 1) throw attachmentNotFound();
  await s.models.chunks.deleteMany({ attachmentId });
  await recordChanged(s, record._id);
  await appendAudit(s, { recordId: record._id, ownerId: record.ownerId, actorId, action: 'delete-attachment' });
}
