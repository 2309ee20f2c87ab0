import { endpoints, type AccessEntry, type CreateRecordRequest, type Me, type RecordDto, type Recipient } from '@medseal/contract';
import type { Call } from '../../api/http';
import { proxy, transfer, type CryptoClient, type KeyRef } from '../../crypto/client';
import type { Fingerprint, JsonObject, RecordExpectation, RecordId, UserId } from '@medseal/crypto';
import type { AccountStateBook } from '../../app/accountState';
import type { KeyBook, Person } from '../../app/keyBook';
import type { KeyTransparency } from '../../app/transparency';
import type { ContactsDoc } from '../contacts/contactsModel';
import { recordContentSchema, summaryOf, type AttachmentRef, type RecordContent } from './content';
import { fetchAllRecords } from './queries';
import { describeFailure, type RecordFailure } from './failures';
import type { SummaryState } from './summaryLoader';
import type { RecordSearch } from '../search/client';
import { searchDocOf } from '../search/searchDoc';

/**
 * Records from the browser's side (DESIGN §5, §6): seal and open in the worker, check every
 * record against what the server says about it, and never hand unverified content to the UI.
 */
export interface RecordDeps {
  /** Changes when the pins change; used in query keys (never put the worker proxy in a key). */
  stamp: string;
  call: Call;
  crypto: CryptoClient;
  me: Me;
  key: KeyRef;
  keyBook: KeyBook;
  /** Key-transparency head, proofs and gossip (DESIGN §14). */
  transparency: KeyTransparency;
  /** Pins and the highest version seen of each record, on every device (DESIGN §12). */
  accountState: AccountStateBook;
  contacts(): ContactsDoc;
}

export type OpenedRecord =
  | {
      status: 'verified';
      dto: RecordDto;
      content: RecordContent;
      author: Person;
      authorVerified: boolean;
      signedAt: Date;
      /**
       * Who can read this version: the server's list once it equals the signed envelope's
       * readers plus the grantees of valid grants (DESIGN §12 "Readers"). Each fingerprint is
       * verified; a new version is encrypted only to keys with these fingerprints.
       */
      readers: Recipient[];
    }
  /** Crypto's own status (or `unknown-content`), unchanged: the UI words it (failures.ts). */
  | (RecordFailure & { dto: RecordDto });

export type VerifiedRecord = Extract<OpenedRecord, { status: 'verified' }>;

/**
 * Whether the server lets me write a new version of this record, share it or revoke a reader
 * (apps/server records/access.ts ROLE_MAY): its owner and its author may; a reader may only read.
 * The server's author is the record's creator, and only the owner or the creator ever writes a
 * version, so the current version's author is one of them: a creator whose record the owner
 * re-wrote since is not offered these actions (fewer than allowed, never one that fails).
 */
export function mayChange(dto: Pick<RecordDto, 'ownerId' | 'authorId'>, myId: string): boolean {
  return dto.ownerId === myId || dto.authorId === myId;
}

export function newRecordId(): string {
  const bytes = crypto.getRandomValues(new Uint8Array(16));
  return btoa(String.fromCharCode(...bytes)).replace(/\+/g, '-').replace(/\//g, '_').replace(/=+$/, '').slice(0, 22);
}

/** The pinned fingerprint if I pinned this person, my own for me, else none (trust on first use). */
function pinnedFingerprint(deps: RecordDeps, userId: string): string | undefined {
  if (userId === deps.me.id) return deps.key.fingerprint;
  return deps.accountState.pinOf(userId)?.fingerprint;
}

async function grantsOf(deps: RecordDeps, recordId: string): Promise<{ signedGrant: string; signerPublicKey: string }[]> {
  const { entries } = await deps.call(endpoints.listAccess, { params: { recordId } });
  const grants: { signedGrant: string; signerPublicKey: string }[] = [];
  for (const e of entries) {
    if (!e.signedGrant || !e.grantedBy) continue;
    const signer = await deps.keyBook.get(e.grantedBy);
    grants.push({ signedGrant: e.signedGrant, signerPublicKey: signer.publicKey });
  }
  return grants;
}

/** The directory keys of `readers` whose fingerprint is the listed one (others are left out). */
async function readerKeysOf(deps: RecordDeps, readers: readonly Recipient[]): Promise<string[]> {
  const people = await Promise.all(readers.map((r) => deps.keyBook.get(r.userId).catch(() => null)));
  return people.flatMap((p, i) => (p && p.fingerprint === readers[i]?.fingerprint ? [p.publicKey] : []));
}

/** Opens one version's message with every check; `grants` are fetched only when needed. */
async function openMessage(deps: RecordDeps, target: { id: string; ownerId: string; authorId: string; version: number; recipients: Recipient[]; message: string }, opts: { checkRollback: boolean }) {
  const author = await deps.keyBook.get(target.authorId);
  const ownerPin = pinnedFingerprint(deps, target.ownerId);
  const ownerFingerprint = ownerPin ?? (await deps.keyBook.get(target.ownerId)).fingerprint;
  const authorPin = pinnedFingerprint(deps, target.authorId);
  const seen = deps.accountState.highestSeen(target.id);
  const expect: RecordExpectation = {
    recordId: target.id as RecordId,
    version: target.version,
    ownerId: target.ownerId as UserId,
    authorId: target.authorId as UserId,
    authorPublicKey: author.publicKey,
    ...(authorPin ? { authorFingerprint: authorPin as Fingerprint } : {}),
    ownerFingerprint: ownerFingerprint as Fingerprint,
    recipients: target.recipients.map((r) => r.fingerprint as Fingerprint),
    ...(opts.checkRollback && seen !== undefined ? { minVersion: seen } : {}),
    // Readers = packets, for the current version (an older one keeps the packets of readers
    // revoked since): every listed reader's key, where the directory's matches the list.
    ...(opts.checkRollback ? { readerKeys: await readerKeysOf(deps, target.recipients) } : {}),
  };
  let result = await deps.crypto.openRecord({ message: target.message, keyHandle: deps.key.handle, expect });
  // Readers beyond the envelope's list are fine only with a valid grant (DESIGN §6): fetch them lazily.
  if (result.status === 'context-mismatch' && result.mismatches.length === 1 && result.mismatches[0] === 'recipients' && (result.unexpectedRecipients?.length ?? 0) > 0) {
    const grants = await grantsOf(deps, target.id);
    result = await deps.crypto.openRecord({ message: target.message, keyHandle: deps.key.handle, expect: { ...expect, grants } });
  }
  return { result, author, authorVerified: deps.accountState.isVerified(target.authorId, author.fingerprint) };
}

export async function openRecordDto(deps: RecordDeps, dto: RecordDto): Promise<OpenedRecord> {
  const { result, author, authorVerified } = await openMessage(deps, dto, { checkRollback: true });
  if (result.status !== 'verified') return { ...result, dto };
  const parsed = recordContentSchema.safeParse(result.envelope.content);
  if (!parsed.success) return { status: 'unknown-content', dto };
  deps.accountState.noteSeen(dto.id, dto.version);
  // Gossip (DESIGN §14) in the background: a split view is an alert of its own, not this record's.
  if (result.gossip.length > 0) void deps.transparency.checkGossip(result.gossip, `${author.name}’s record`);
  return { status: 'verified', dto, content: parsed.data, author, authorVerified, signedAt: result.signedAt, readers: dto.recipients };
}

/**
 * For the list: the same checks, reduced to a summary state. A verified record goes into my
 * search index (in its worker); one that does not verify is taken out of it.
 */
export async function summarizeRecord(deps: RecordDeps, dto: RecordDto, search: Pick<RecordSearch, 'put' | 'remove'>): Promise<Exclude<SummaryState, { status: 'pending' }>> {
  const opened = await openRecordDto(deps, dto);
  if (opened.status !== 'verified') {
    void search.remove([dto.id]);
    const { dto: _dto, ...failure } = opened;
    return { status: 'failed', failure };
  }
  void search.put([searchDocOf(dto.id, opened.content)]);
  return { status: 'verified', summary: summaryOf(opened.content) };
}

export type OpenedVersion = { status: 'verified'; content: RecordContent; author: Person } | RecordFailure;

export async function openVersion(deps: RecordDeps, dto: RecordDto, version: number): Promise<OpenedVersion> {
  const v = await deps.call(endpoints.getRecordVersion, { params: { recordId: dto.id, version } });
  const { result, author } = await openMessage(deps, { id: dto.id, ownerId: dto.ownerId, authorId: v.authorId, version: v.version, recipients: v.recipients, message: v.message }, { checkRollback: false });
  if (result.status !== 'verified') return result;
  const parsed = recordContentSchema.safeParse(result.envelope.content);
  if (!parsed.success) return { status: 'unknown-content' };
  return { status: 'verified', content: parsed.data, author };
}

export interface Progress {
  (stage: string, fraction: number | null): void;
}

/**
 * The keys a new version is encrypted to (DESIGN §12 "Keys"): each reader's directory key must
 * have the fingerprint that verified data (a verified record's readers, or my pins) gives for
 * them; the directory alone never decides whose key a record is encrypted to.
 */
async function keysFor(deps: RecordDeps, readers: readonly Recipient[]): Promise<{ recipients: Recipient[]; keys: string[] }> {
  const byUser = new Map<string, string>();
  for (const r of readers) {
    const known = byUser.get(r.userId);
    if (known !== undefined && known !== r.fingerprint) throw new Error('Two different keys are named for one reader: the record’s readers do not verify. Refused.');
    byUser.set(r.userId, r.fingerprint);
  }
  const people = await Promise.all([...byUser.keys()].map((id) => deps.keyBook.get(id)));
  for (const p of people) {
    const pin = pinnedFingerprint(deps, p.id);
    if (pin && pin !== p.fingerprint) throw new Error(`${p.name}’s key has changed since you pinned it. Check it under Contacts before writing to them.`);
    if (p.fingerprint !== byUser.get(p.id)) {
      throw new Error(`The server gave a key for ${p.name} that is not the one verified for them (security warning): nothing was encrypted to it. Refused.`);
    }
  }
  return { recipients: people.map((p) => ({ userId: p.id, fingerprint: p.fingerprint })), keys: people.map((p) => p.publicKey) };
}

/** Me, as a reader of what I write. */
function meAsReader(deps: RecordDeps): Recipient {
  return { userId: deps.me.id, fingerprint: deps.key.fingerprint };
}

/** Encrypts and uploads each file; a file found in `uploaded` (an earlier attempt) is not sent again. */
async function uploadFiles(deps: RecordDeps, recordId: string, files: File[], keys: string[], onProgress: Progress, uploaded = new Map<File, AttachmentRef>()): Promise<AttachmentRef[]> {
  const refs: AttachmentRef[] = [];
  for (const [i, file] of files.entries()) {
    const done = uploaded.get(file);
    if (done) {
      refs.push(done);
      continue;
    }
    const label = `${file.name} (${i + 1} of ${files.length})`;
    onProgress(`Encrypting ${label}`, 0);
    const data = new Uint8Array(await file.arrayBuffer());
    // A session key of its own, kept in the worker until the server has named the file: the
    // signed content then commits to (file id, key), which every later share checks.
    const sessionKeyHandle = await deps.crypto.createSessionKey();
    try {
      // Move (not copy) up to 20 MiB into the worker.
      const sealed = await deps.crypto.sealFile(
        transfer({ data, keyHandle: deps.key.handle, recipientKeys: keys, sessionKeyHandle }, [data.buffer]),
        proxy((p: { done: number; total: number }) => onProgress(`Encrypting ${label}`, p.total ? p.done / p.total : null)),
      );
      onProgress(`Uploading ${label}`, 0);
      const info = await deps.call(endpoints.uploadAttachment, { params: { recordId }, body: sealed.message, onUploadProgress: (f) => onProgress(`Uploading ${label}`, f) });
      const keyCommitment = await deps.crypto.commitFileKey({ fileId: info.id, sessionKeyHandle });
      const ref: AttachmentRef = { id: info.id, name: file.name, type: file.type, size: file.size, sha256: sealed.sha256, by: deps.me.id, keyCommitment };
      uploaded.set(file, ref);
      refs.push(ref);
    } finally {
      await deps.crypto.forget(sessionKeyHandle);
    }
  }
  return refs;
}

async function seal(deps: RecordDeps, input: { recordId: string; version: number; ownerId: string; content: RecordContent; keys: string[] }) {
  // JSON round trip: drops undefined fields, which the canonical envelope cannot hold.
  const content = JSON.parse(JSON.stringify(input.content)) as JsonObject;
  // The head I saw travels with what I sign, so my readers can check their view against mine.
  const ktHead = await deps.transparency.currentHead();
  return deps.crypto.sealRecord({
    envelope: { recordId: input.recordId as RecordId, version: input.version, ownerId: input.ownerId as UserId, authorId: deps.me.id as UserId, createdAt: new Date().toISOString(), content, ktHead },
    keyHandle: deps.key.handle,
    recipientKeys: input.keys,
  });
}

/**
 * The people a patient chose to read their records, from my verified copies of the patient's
 * records (DESIGN §12 "Readers"): the patient's own key as those records name it, and every
 * other reader but me, each with the fingerprint a verified record gives (the newest first).
 * A record that did not verify contributes nothing, so a reader the server added to a list
 * is never offered.
 */
export function readersChosenBy(patientId: string, myId: string, opened: readonly OpenedRecord[]): { patient: Recipient | null; chosen: Recipient[] } {
  const byUser = new Map<string, Recipient>();
  for (const r of opened) {
    if (r.status !== 'verified' || r.dto.ownerId !== patientId) continue;
    for (const reader of r.readers) if (!byUser.has(reader.userId)) byUser.set(reader.userId, reader);
  }
  const patient = byUser.get(patientId) ?? null;
  byUser.delete(patientId);
  byUser.delete(myId);
  return { patient, chosen: [...byUser.values()].sort((x, y) => x.userId.localeCompare(y.userId)) };
}

/** Opens every record of the patient I can see, for `readersChosenBy`. */
export async function openRecordsOf(deps: RecordDeps, patientId: string): Promise<OpenedRecord[]> {
  const mine = (await fetchAllRecords(deps.call)).filter((r) => r.ownerId === patientId);
  return Promise.all(mine.map((r) => openRecordDto(deps, r)));
}

/**
 * One "save" of a new record, kept by the page across retries so that saving again after a
 * failure finishes the same record instead of making a second one: the id is made once; the
 * create request is sealed once and, when its answer was lost, sent again unchanged (the server
 * stores an identical repeated create once and answers with it); a record the server confirmed
 * is not created again, and files it confirmed are not uploaded again.
 */
export interface NewRecordDraft {
  readonly recordId: string;
  request?: CreateRecordRequest;
  /** The content sealed in `request` (JSON), to tell whether the draft changed since. */
  requestContent?: string;
  created?: RecordDto;
  readonly uploaded: Map<File, AttachmentRef>;
}

export function newRecordDraft(): NewRecordDraft {
  return { recordId: newRecordId(), uploaded: new Map() };
}

/**
 * Creates a record for `owner` (me, or for a doctor a patient, also to `alsoReaders`); every
 * reader comes with the fingerprint verified data gives for them. With files: version 1 is
 * stored first (attachments need a record to belong to), the files are encrypted to the same
 * readers and uploaded, then version 2 names them with their hashes and key commitments, so
 * every file is bound to signed content. Version 2 is also written when a retry's content
 * differs from what version 1 sealed.
 */
export async function createRecord(
  deps: RecordDeps,
  input: { draft: NewRecordDraft; owner: Recipient; alsoReaders?: Recipient[]; content: RecordContent; files: File[] },
  onProgress: Progress,
): Promise<RecordDto> {
  const { draft } = input;
  const { recordId } = draft;
  const ownerId = input.owner.userId;
  const { recipients, keys } = await keysFor(deps, [input.owner, meAsReader(deps), ...(input.alsoReaders ?? [])]);
  const first = { ...input.content, attachments: [] };
  let dto = draft.created;
  if (!dto) {
    if (!draft.request) {
      onProgress('Encrypting the record', null);
      draft.request = { recordId, ownerId, recipients, message: (await seal(deps, { recordId, version: 1, ownerId, content: first, keys })).message };
      draft.requestContent = JSON.stringify(first);
    }
    dto = await deps.call(endpoints.createRecord, { body: draft.request });
    draft.created = dto;
    deps.accountState.noteSeen(recordId, 1);
  }
  if (input.files.length > 0 || JSON.stringify(first) !== draft.requestContent) {
    const refs = await uploadFiles(deps, recordId, input.files, keys, onProgress, draft.uploaded);
    onProgress('Saving', null);
    const content = { ...input.content, attachments: refs };
    const next = await seal(deps, { recordId, version: 2, ownerId, content, keys });
    dto = await deps.call(endpoints.updateRecord, { params: { recordId }, body: { baseVersion: 1, recipients, message: next.message } });
    deps.accountState.noteSeen(recordId, 2);
  }
  // Saved before the record is shown: another device must not take an older version for it.
  await deps.accountState.flush();
  return dto;
}

/** A new version based on `base` (409 if someone else wrote first), to everyone who verifiably reads it now. */
export async function updateRecord(deps: RecordDeps, base: VerifiedRecord, input: { content: RecordContent; files: File[] }, onProgress: Progress): Promise<RecordDto> {
  const { dto: current } = base;
  const { recipients, keys } = await keysFor(deps, [...base.readers, meAsReader(deps)]);
  const refs = input.files.length > 0 ? await uploadFiles(deps, current.id, input.files, keys, onProgress) : [];
  onProgress('Encrypting the new version', null);
  const content = { ...input.content, attachments: [...input.content.attachments, ...refs] };
  const { message } = await seal(deps, { recordId: current.id, version: current.version + 1, ownerId: current.ownerId, content, keys });
  const dto = await deps.call(endpoints.updateRecord, { params: { recordId: current.id }, body: { baseVersion: current.version, recipients, message } });
  deps.accountState.noteSeen(current.id, dto.version);
  await deps.accountState.flush();
  const kept = new Set(content.attachments.map((a) => a.id));
  for (const a of base.content.attachments) {
    if (!kept.has(a.id)) await deps.call(endpoints.deleteAttachment, { params: { recordId: current.id, attachmentId: a.id } });
  }
  return dto;
}

/**
 * Downloads one file and opens it against the signed record: the signer named there, its
 * pinned key, its SHA-256. `keepMessage` also returns the ciphertext (to share a file sealed
 * before key commitments from the very message that verified).
 */
async function openAttachment(deps: RecordDeps, recordId: string, ref: AttachmentRef, onProgress: Progress, keepMessage: boolean) {
  onProgress(`Downloading ${ref.name}`, 0);
  const message = await deps.call(endpoints.downloadAttachment, { params: { recordId, attachmentId: ref.id }, onDownloadProgress: (f) => onProgress(`Downloading ${ref.name}`, f) });
  const kept = keepMessage ? message.slice() : undefined;
  onProgress(`Decrypting ${ref.name}`, null);
  const signer = await deps.keyBook.get(ref.by);
  const pin = pinnedFingerprint(deps, ref.by);
  const opened = await deps.crypto.openFile(
    transfer({ message, keyHandle: deps.key.handle, authorPublicKey: signer.publicKey, ...(pin ? { authorFingerprint: pin as Fingerprint } : {}), expectSha256: ref.sha256 }, [message.buffer]),
    proxy((p: { done: number; total: number }) => onProgress(`Decrypting ${ref.name}`, p.total ? p.done / p.total : null)),
  );
  if (opened.status !== 'verified') throw new Error(`${ref.name} failed verification: ${describeFailure(opened)}`);
  onProgress(`Decrypted ${ref.name}`, 1);
  return { data: opened.data, message: kept };
}

/** Downloads and decrypts one file; only bytes that verify against the signed record come back. */
export async function downloadAttachment(deps: RecordDeps, recordId: string, ref: AttachmentRef, onProgress: Progress): Promise<Blob> {
  const { data } = await openAttachment(deps, recordId, ref, onProgress, false);
  return new Blob([data as BlobPart], { type: ref.type || 'application/octet-stream' });
}

/**
 * The grantee's packet for one file named in the verified content. With a key commitment, the
 * file's packets (a few hundred bytes) suffice: the worker refuses a session key that is not
 * the committed one (`key-commitment-mismatch`). A file sealed before commitments is shared
 * from its own message, once that opened against the signed SHA-256.
 */
async function filePacketFor(deps: RecordDeps, recordId: string, ref: AttachmentRef, grantee: Person): Promise<string> {
  if (ref.keyCommitment) {
    const { packets } = await deps.call(endpoints.attachmentPackets, { params: { recordId, attachmentId: ref.id } });
    return deps.crypto.createRecipientPacket({
      recipientPackets: packets,
      keyHandle: deps.key.handle,
      newRecipientKey: grantee.publicKey,
      expectKeyCommitment: { fileId: ref.id, commitment: ref.keyCommitment },
    });
  }
  const { message } = await openAttachment(deps, recordId, ref, () => undefined, true);
  if (!message) throw new Error(`${ref.name} could not be kept to share.`);
  return deps.crypto.createRecipientPacket(transfer({ message, keyHandle: deps.key.handle, newRecipientKey: grantee.publicKey }, [message.buffer]));
}

export async function deleteRecord(deps: RecordDeps, recordId: string): Promise<void> {
  await deps.call(endpoints.deleteRecord, { params: { recordId } });
}

/**
 * Share (DESIGN §6): one new PKESK for the message and one per attachment (they may use other
 * session keys), plus a grant signed by me. No data is re-encrypted. Only the files the
 * verified content names are shared (DESIGN §12): the server's attachment list is not asked.
 */
export async function shareRecord(deps: RecordDeps, record: VerifiedRecord, grantee: Person): Promise<AccessEntry> {
  const { dto, content } = record;
  const pkesk = await deps.crypto.createRecipientPacket({ message: dto.message, keyHandle: deps.key.handle, newRecipientKey: grantee.publicKey });
  const attachmentPackets: Record<string, string> = {};
  for (const a of content.attachments) attachmentPackets[a.id] = await filePacketFor(deps, dto.id, a, grantee);
  const { signedGrant } = await deps.crypto.createGrant({
    grant: { recordId: dto.id as RecordId, granteeUserId: grantee.id as UserId, granteeFingerprint: grantee.fingerprint as Fingerprint, grantedBy: deps.me.id as UserId, ktHead: await deps.transparency.currentHead() },
    keyHandle: deps.key.handle,
  });
  return deps.call(endpoints.grantAccess, {
    params: { recordId: dto.id },
    body: { granteeUserId: grantee.id, signedGrant, pkesk, ...(content.attachments.length > 0 ? { attachmentPackets } : {}) },
  });
}

/** What sharing several records did; each failure keeps its error for the UI to word. */
export interface ShareManyOutcome {
  shared: string[];
  /** The person could already read these (named by the verified readers). */
  already: string[];
  failed: { recordId: string; error: unknown }[];
}

/** Records shared at once: enough to keep the server busy while the worker seals the next. */
const SHARE_CONCURRENCY = 4;

/**
 * Shares several records with one person after one key check (issue 14): each record is fetched
 * and opened again here, and only a verified one is shared (DESIGN §12), with the same steps as
 * `shareRecord`. One failure does not stop the rest; `onProgress` gets records done so far.
 */
export async function shareRecords(deps: RecordDeps, recordIds: readonly string[], grantee: Person, onProgress: (done: number, total: number) => void): Promise<ShareManyOutcome> {
  const outcome: ShareManyOutcome = { shared: [], already: [], failed: [] };
  const queue = [...recordIds];
  let done = 0;
  onProgress(0, recordIds.length);
  const shareOne = async (recordId: string) => {
    const opened = await openRecordDto(deps, await deps.call(endpoints.getRecord, { params: { recordId } }));
    if (opened.status !== 'verified') throw new RecordTamperedError(opened);
    if (opened.readers.some((r) => r.userId === grantee.id)) return 'already';
    await shareRecord(deps, opened, grantee);
    return 'shared';
  };
  const worker = async () => {
    for (let recordId = queue.shift(); recordId !== undefined; recordId = queue.shift()) {
      try {
        outcome[await shareOne(recordId)].push(recordId);
      } catch (error) {
        outcome.failed.push({ recordId, error });
      }
      done += 1;
      onProgress(done, recordIds.length);
    }
  };
  await Promise.all(Array.from({ length: Math.min(SHARE_CONCURRENCY, recordIds.length) }, worker));
  return outcome;
}

/** A record that did not verify when it was to be shared; its message says why, in words. */
export class RecordTamperedError extends Error {
  constructor(readonly failure: RecordFailure) {
    super(`It failed verification and was not shared: ${describeFailure(failure)}`);
    this.name = 'RecordTamperedError';
  }
}

/**
 * Revoke (DESIGN §6, §12 "Readers"): the server stops serving the record to them at once; then
 * a new version under fresh session keys, its files re-encrypted too, goes to the verified
 * readers minus them (never to the readers the server lists now: it may have ignored the
 * revoke), and the new envelope is checked not to name them. Revoking the author works: I
 * sign the new version as its author, with the verified content unchanged; the history keeps
 * the author's own signed versions. What they already read they may have kept.
 */
export async function revokeAccess(deps: RecordDeps, record: VerifiedRecord, userId: string, onProgress: Progress): Promise<RecordDto> {
  const { dto, content } = record;
  const revoked = record.readers.filter((r) => r.userId === userId).map((r) => r.fingerprint);
  if (revoked.length === 0) throw new Error('They are not among the verified readers of this record.');
  const { recipients, keys } = await keysFor(deps, [...record.readers.filter((r) => r.userId !== userId), meAsReader(deps)]);
  await deps.call(endpoints.revokeAccess, { params: { recordId: dto.id, userId } });
  const files: File[] = [];
  for (const a of content.attachments) {
    const { data } = await openAttachment(deps, dto.id, a, onProgress, false);
    files.push(new File([data as BlobPart], a.name, { type: a.type }));
  }
  const refs = await uploadFiles(deps, dto.id, files, keys, onProgress);
  onProgress('Encrypting the new version', null);
  const sealed = await seal(deps, { recordId: dto.id, version: dto.version + 1, ownerId: dto.ownerId, content: { ...content, attachments: refs }, keys });
  if (sealed.envelope.recipients.some((fp) => revoked.includes(fp))) throw new Error('The new version would still be readable by the revoked reader. Refused.');
  const updated = await deps.call(endpoints.updateRecord, { params: { recordId: dto.id }, body: { baseVersion: dto.version, recipients, message: sealed.message } });
  deps.accountState.noteSeen(dto.id, updated.version);
  await deps.accountState.flush();
  for (const a of content.attachments) await deps.call(endpoints.deleteAttachment, { params: { recordId: dto.id, attachmentId: a.id } });
  return updated;
}
