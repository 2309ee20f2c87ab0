import { Schema, type Connection, type Model, type mongo } from 'mongoose';
import type { AttachmentInfo } from '@medseal/contract';
import { modelOn } from '../../lib/model';
import { GroupInserts } from '../../lib/store';

export interface RecipientDoc {
  userId: string;
  fingerprint: string;
}

/**
 * A care team the stored message is encrypted to (DESIGN §13): one PKESK for generation `gen` of
 * the team key (`fingerprint`). Its current members read the record through it.
 */
export interface RecordTeamDoc {
  teamId: string;
  fingerprint: string;
  gen: number;
}

/** A record's current state. The clinical content is only inside `message` (DESIGN §5). */
export interface RecordDoc {
  _id: string;
  /** The patient the record is about. */
  ownerId: string;
  /** Who wrote the current version (the envelope's signer; for a re-key, its base's). */
  authorId: string;
  /** Set when the current version is a re-key: the team admin who signed it (docs/care-teams.md). */
  rekeyedBy?: string;
  /** Who created the record; may edit and share it while still a recipient. */
  creatorId: string;
  /** Who the stored message is encrypted to: declared recipients plus active grantees. */
  recipients: RecipientDoc[];
  /** `recipients[].userId`. */
  readerIds: string[];
  /** Care teams the stored message is encrypted to; absent on records no team ever read. */
  teams?: RecordTeamDoc[];
  /** Per `teams` entry, the seq of the record's current entry in that team's listing feed. */
  teamFeedSeqs?: number[];
  /**
   * Per `readerIds` entry, the seq of the record's current entry in that reader's listing feed
   * (feed.ts). Absent on records stored before the feed, until the migration adds them.
   */
  feedSeqs?: number[];
  version: number;
  /** Bumped on every change of `message` (updates and spliced grants): the optimistic lock. */
  rev: number;
  createdAt: Date;
  updatedAt: Date;
  message: string;
}

const recipientSchema = new Schema<RecipientDoc>(
  { userId: { type: String, required: true }, fingerprint: { type: String, required: true } },
  { _id: false },
);

const recordTeamSchema = new Schema<RecordTeamDoc>(
  {
    teamId: { type: String, required: true },
    fingerprint: { type: String, required: true },
    gen: { type: Number, required: true },
  },
  { _id: false },
);

const recordSchema = new Schema<RecordDoc>(
  {
    _id: { type: String, required: true },
    ownerId: { type: String, required: true },
    authorId: { type: String, required: true },
    rekeyedBy: { type: String },
    creatorId: { type: String, required: true },
    recipients: { type: [recipientSchema], required: true },
    readerIds: { type: [String], required: true },
    feedSeqs: { type: [Number], default: undefined },
    teams: { type: [recordTeamSchema], default: undefined },
    teamFeedSeqs: { type: [Number], default: undefined },
    version: { type: Number, required: true },
    rev: { type: Number, required: true },
    createdAt: { type: Date, required: true },
    updatedAt: { type: Date, required: true },
    message: { type: String, required: true },
  },
  { versionKey: false, strict: 'throw' },
);

/** An immutable version as it was written; `_id` = `<recordId>:<version>` makes the version slot unique. */
export interface RecordVersionDoc {
  _id: string;
  recordId: string;
  version: number;
  authorId: string;
  /** A re-key: the team admin who signed it. */
  rekeyedBy?: string;
  recipients: RecipientDoc[];
  teams?: RecordTeamDoc[];
  message: string;
  /** Characters of the armored message. */
  size: number;
  createdAt: Date;
}

const versionSchema = new Schema<RecordVersionDoc>(
  {
    _id: { type: String, required: true },
    recordId: { type: String, required: true, index: true },
    version: { type: Number, required: true },
    authorId: { type: String, required: true },
    rekeyedBy: { type: String },
    recipients: { type: [recipientSchema], required: true },
    teams: { type: [recordTeamSchema], default: undefined },
    message: { type: String, required: true },
    size: { type: Number, required: true },
    createdAt: { type: Date, required: true },
  },
  { versionKey: false, strict: 'throw' },
);

/**
 * Attachment metadata. The message is served as its session key packets (`packets`,
 * base64url) followed by the chunks of generation `gen`; `size` counts both. Sharing adds a
 * packet and leaves the chunks alone. Attachments stored by earlier versions have no
 * `packets`: their chunks hold the whole message, until a first share splits them.
 */
export interface AttachmentDoc {
  _id: string;
  recordId: string;
  size: number;
  chunkCount: number;
  gen: number;
  createdAt: Date;
  packets?: string[];
}

export function toAttachmentInfo(a: AttachmentDoc): AttachmentInfo {
  return { id: a._id, size: a.size, createdAt: a.createdAt.toISOString() };
}

const attachmentSchema = new Schema<AttachmentDoc>(
  {
    _id: { type: String, required: true },
    recordId: { type: String, required: true, index: true },
    size: { type: Number, required: true },
    chunkCount: { type: Number, required: true },
    gen: { type: Number, required: true },
    createdAt: { type: Date, required: true },
    packets: { type: [String], default: undefined },
  },
  { versionKey: false, strict: 'throw' },
);

/**
 * One link of a record's attachment chain (lib/store.ts), `_id` `<recordId>:<seq>`: names an
 * attachment the record got, in upload order. A record's attachments are found by `_id` alone
 * (DESIGN §9); a link whose attachment was deleted stays and names nothing.
 */
export interface AttachmentLinkDoc {
  _id: string;
  recordId: string;
  attachmentId: string;
}

const attachmentLinkSchema = new Schema<AttachmentLinkDoc>(
  {
    _id: { type: String, required: true },
    recordId: { type: String, required: true, index: true },
    attachmentId: { type: String, required: true },
  },
  { versionKey: false, strict: 'throw' },
);

/** A chunk's `_id`: `<attachmentId>:<gen>:<n>`. */
export const chunkId = (attachmentId: string, gen: number, n: number) =>
  `${attachmentId}:${gen}:${n}`;

/** The `_id`s of chunks 0 … count-1 of generation `gen`. */
export const chunkIds = (attachmentId: string, gen: number, count: number) =>
  Array.from({ length: count }, (_, n) => chunkId(attachmentId, gen, n));

/**
 * Every chunk `_id` the attachment may have stored: each generation up to one a split that
 * stopped half-way may have written; an earlier generation held the packets too (a few hundred
 * bytes per reader), so at most one chunk more.
 */
export const storedChunkIds = (a: Pick<AttachmentDoc, '_id' | 'gen' | 'chunkCount'>) =>
  Array.from({ length: a.gen + 1 }, (_, g) => chunkIds(a._id, g + 1, a.chunkCount + 1)).flat();

/** Our own chunking (plain documents) rather than GridFS: works the same on FerretDB v1 and MongoDB. */
export interface ChunkDoc {
  _id: string;
  attachmentId: string;
  recordId: string;
  gen: number;
  n: number;
  data: Buffer | mongo.Binary;
}

const chunkSchema = new Schema<ChunkDoc>(
  {
    _id: { type: String, required: true },
    attachmentId: { type: String, required: true },
    recordId: { type: String, required: true, index: true },
    gen: { type: Number, required: true },
    n: { type: Number, required: true },
    data: { type: Buffer, required: true },
  },
  { versionKey: false, strict: 'throw' },
);
chunkSchema.index({ attachmentId: 1, gen: 1, n: 1 }, { unique: true });

export const recordModel = (c: Connection) => modelOn(c, 'Record', recordSchema, 'records');
export const recordVersionModel = (c: Connection) =>
  modelOn(c, 'RecordVersion', versionSchema, 'record_versions');
export const attachmentModel = (c: Connection) =>
  modelOn(c, 'Attachment', attachmentSchema, 'attachments');
export const attachmentLinkModel = (c: Connection) =>
  modelOn(c, 'AttachmentLink', attachmentLinkSchema, 'attachment_links');
export const attachmentChunkModel = (c: Connection) =>
  modelOn(c, 'AttachmentChunk', chunkSchema, 'attachment_chunks');

/**
 * The inserts of new records and versions, group-committed (lib/store.ts): a burst of creates
 * costs a few inserts, not two each. A round carries at most 8 MB of messages (a
 * message is at most 768 KB), which the database stores well within one operation's timeout.
 */
export function recordInserts(models: {
  records: Model<RecordDoc>;
  versions: Model<RecordVersionDoc>;
}) {
  const size = { charsOf: (doc: { message: string }) => doc.message.length, maxChars: 8 << 20 };
  return {
    // Mongoose types the native collection for ObjectId `_id`s.
    records: new GroupInserts(
      models.records.collection as unknown as mongo.Collection<RecordDoc>,
      size,
    ),
    versions: new GroupInserts(
      models.versions.collection as unknown as mongo.Collection<RecordVersionDoc>,
      size,
    ),
  };
}
export type RecordInserts = ReturnType<typeof recordInserts>;
