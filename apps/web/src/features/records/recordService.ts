import { endpoints, type AccessEntry, type TeamAccessEntry, type CreateRecordRequest, type Me, type RecordDto, type RecordTeam, type Recipient, type TeamRecipient } from '@medseal/contract';
import { isApiError } from '../../api/errors';
import type { Call } from '../../api/http';
import { proxy, transfer, type CryptoClient, type KeyHandle, type KeyRef } from '../../crypto/client';
import type { Fingerprint, JsonObject, RecordExpectation, RecordId, TeamAttestation, UserId } from '@medseal/crypto';
import type { AccountStateBook } from '../../app/accountState';
import type { KeyBook, Person } from '../../app/keyBook';
import type { KeyTransparency } from '../../app/transparency';
import type { ContactsDoc } from '../contacts/contactsModel';
import type { TeamBook } from '../teams/teamBook';
import { currentKeyOf, teamPublicKey, type VerifiedTeam } from '../teams/teamService';
import { recordContentSchema, summaryOf, type AttachmentRef, type RecordContent } from './content';
import { fetchAllRecords, fetchTeamRecords, withTeamRecords } from './queries';
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
  /** Care teams (verified logs) and my team keys, for the tab. */
  teams: TeamBook;
}

/** A care team that verifiably reads a record version (DESIGN §13). */
export interface ReaderTeam {
  team: VerifiedTeam;
  /** The team key generation the stored message is for. */
  gen: number;
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
      /** The care teams that read it, each verified from its signed log. */
      teams: ReaderTeam[];
      /** The author's attested role when a team reading this record attests her key; else her role is self-declared. */
      attestation: TeamAttestation | null;
      /** The key I opened it with (mine, or a team's I am a member of): its files open with it too. */
      readingKey: KeyHandle;
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

type GrantEvidence = { signedGrant: string; signerPublicKey: string };

/** The signed grants the server holds for a record (people's and teams'), with their signers' keys. */
async function grantsOf(deps: RecordDeps, recordId: string): Promise<{ grants: GrantEvidence[]; teamGrants: GrantEvidence[] }> {
  const { entries, teams } = await deps.call(endpoints.listAccess, { params: { recordId } });
  const evidence = async (list: { signedGrant?: string | undefined; grantedBy?: string | undefined }[]) => {
    const out: GrantEvidence[] = [];
    for (const e of list) {
      if (!e.signedGrant || !e.grantedBy) continue;
      out.push({ signedGrant: e.signedGrant, signerPublicKey: (await deps.keyBook.get(e.grantedBy)).publicKey });
    }
    return out;
  };
  return { grants: await evidence(entries), teamGrants: await evidence(teams) };
}

/** The record's teams, each verified from its signed log; a team whose log does not verify is left out (the record then fails its reader check). */
async function readerTeamsOf(deps: RecordDeps, teams: readonly RecordTeam[]): Promise<ReaderTeam[]> {
  const loaded = await Promise.all(teams.map((t) => deps.teams.team(t.teamId).then((team) => ({ team, gen: t.gen }), () => null)));
  return loaded.flatMap((t) => (t ? [t] : []));
}

/** The public keys of the record's teams at the generations its message is for (checked against each team's statements). */
async function teamReaderKeys(deps: RecordDeps, teams: readonly ReaderTeam[]): Promise<string[]> {
  const keys = await Promise.all(
    teams.map((t) => {
      const key = t.team.state.keys.find((k) => k.gen === t.gen);
      return key ? teamPublicKey(deps, t.team, key).catch(() => null) : null;
    }),
  );
  return keys.flatMap((k) => (k ? [k] : []));
}

/** The key I open a version with: mine when it is encrypted to me, else that of a team I am a current member of. */
async function readingKey(deps: RecordDeps, recipients: readonly Recipient[], teams: readonly ReaderTeam[]) {
  if (recipients.some((r) => r.userId === deps.me.id)) return deps.key.handle;
  const mine = teams.find((t) => t.team.state.members.some((m) => m.userId === deps.me.id && m.fingerprint === deps.key.fingerprint));
  return mine ? (await deps.teams.keyFor(mine.team.state.teamId, mine.gen)).handle : deps.key.handle;
}

/** The directory keys of `readers` whose fingerprint is the listed one (others are left out). */
async function readerKeysOf(deps: RecordDeps, readers: readonly Recipient[]): Promise<string[]> {
  const people = await Promise.all(readers.map((r) => deps.keyBook.get(r.userId).catch(() => null)));
  return people.flatMap((p, i) => (p && p.fingerprint === readers[i]?.fingerprint ? [p.publicKey] : []));
}

/** Opens one version's message with every check; `grants` are fetched only when needed. */
async function openMessage(
  deps: RecordDeps,
  target: { id: string; ownerId: string; authorId: string; version: number; recipients: Recipient[]; teams: RecordTeam[]; message: string },
  opts: { checkRollback: boolean },
) {
  const author = await deps.keyBook.get(target.authorId);
  const ownerPin = pinnedFingerprint(deps, target.ownerId);
  const ownerFingerprint = ownerPin ?? (await deps.keyBook.get(target.ownerId)).fingerprint;
  const authorPin = pinnedFingerprint(deps, target.authorId);
  const seen = deps.accountState.highestSeen(target.id);
  const teams = await readerTeamsOf(deps, target.teams);
  const expect: RecordExpectation = {
    recordId: target.id as RecordId,
    version: target.version,
    ownerId: target.ownerId as UserId,
    authorId: target.authorId as UserId,
    authorPublicKey: author.publicKey,
    ...(authorPin ? { authorFingerprint: authorPin as Fingerprint } : {}),
    ownerFingerprint: ownerFingerprint as Fingerprint,
    recipients: [...target.recipients, ...target.teams].map((r) => r.fingerprint as Fingerprint),
    ...(opts.checkRollback && seen !== undefined ? { minVersion: seen } : {}),
    ...(teams.length > 0 ? { teams: teams.map((t) => t.team.state) } : {}),
    // Readers = packets, for the current version (an older one keeps the packets of readers
    // revoked since): every listed reader's key, where the directory's matches the list, and
    // each team's key of the generation listed, as its verified statements name it.
    ...(opts.checkRollback ? { readerKeys: [...(await readerKeysOf(deps, target.recipients)), ...(await teamReaderKeys(deps, teams))] } : {}),
  };
  const keyHandle = await readingKey(deps, target.recipients, teams);
  // A team reads through a grant (DESIGN §13): its evidence is needed at once.
  let result = target.teams.length > 0 ? undefined : await deps.crypto.openRecord({ message: target.message, keyHandle, expect });
  // Readers beyond the envelope's list are fine only with a valid grant (DESIGN §6): fetch them lazily.
  if (!result || (result.status === 'context-mismatch' && result.mismatches.length === 1 && result.mismatches[0] === 'recipients' && (result.unexpectedRecipients?.length ?? 0) > 0)) {
    result = await deps.crypto.openRecord({ message: target.message, keyHandle, expect: { ...expect, ...(await grantsOf(deps, target.id)) } });
  }
  const attestation = result.status === 'verified' ? await attestationIn(deps, teams, author) : null;
  return { result, author, authorVerified: deps.accountState.isVerified(target.authorId, author.fingerprint), teams, attestation, keyHandle };
}

/** The author's attested role in one of the record's verified teams (current member with exactly this key), if any. */
async function attestationIn(deps: RecordDeps, teams: readonly ReaderTeam[], author: Person): Promise<TeamAttestation | null> {
  for (const t of teams) {
    const found = await deps.crypto.attestationOf(t.team.state, { userId: author.id, fingerprint: author.fingerprint });
    if (found) return found;
  }
  return null;
}

export async function openRecordDto(deps: RecordDeps, dto: RecordDto): Promise<OpenedRecord> {
  const { result, author, authorVerified, teams, attestation, keyHandle } = await openMessage(deps, dto, { checkRollback: true });
  if (result.status !== 'verified') return { ...result, dto };
  const parsed = recordContentSchema.safeParse(result.envelope.content);
  if (!parsed.success) return { status: 'unknown-content', dto };
  deps.accountState.noteSeen(dto.id, dto.version);
  // Gossip (DESIGN §14) in the background: a split view is an alert of its own, not this record's.
  if (result.gossip.length > 0) void deps.transparency.checkGossip(result.gossip, `${author.name}’s record`);
  return { status: 'verified', dto, content: parsed.data, author, authorVerified, signedAt: result.signedAt, readers: dto.recipients, teams, attestation, readingKey: keyHandle };
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
  const { result, author } = await openMessage(deps, { id: dto.id, ownerId: dto.ownerId, authorId: v.authorId, version: v.version, recipients: v.recipients, teams: v.teams, message: v.message }, { checkRollback: false });
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
async function keysFor(deps: RecordDeps, readers: readonly Recipient[], readerTeams: readonly VerifiedTeam[] = []): Promise<{ recipients: Recipient[]; keys: string[]; teams: TeamRecipient[] }> {
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
  // Each team at its current key, as its verified statements name it (DESIGN §13).
  const teamKeys = await Promise.all(readerTeams.map((t) => teamPublicKey(deps, t, currentKeyOf(t.state))));
  return {
    recipients: people.map((p) => ({ userId: p.id, fingerprint: p.fingerprint })),
    keys: [...people.map((p) => p.publicKey), ...teamKeys],
    teams: readerTeams.map((t) => ({ teamId: t.state.teamId, fingerprint: currentKeyOf(t.state).fingerprint })),
  };
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
 * The people a patient chose to read their records, from her signed state only (DESIGN §12
 * "Readers", §13): the patient's key as my verified copies of her records name it; as readers,
 * the others on records she signed herself, and the doctors her verified consents name
 * (`carers`, features/consents), each with the fingerprint that signed data gives (the newest
 * first). A record that did not verify, or that someone else signed (a doctor who wrote
 * without her consent, or a reader another doctor added), offers nobody.
 */
export function readersChosenBy(patientId: string, myId: string, opened: readonly OpenedRecord[], carers: readonly Recipient[] = []): { patient: Recipient | null; chosen: Recipient[] } {
  let patient: Recipient | null = null;
  const byUser = new Map<string, Recipient>();
  for (const r of opened) {
    if (r.status !== 'verified' || r.dto.ownerId !== patientId) continue;
    patient ??= r.readers.find((reader) => reader.userId === patientId) ?? null;
    if (r.author.id !== patientId) continue;
    for (const reader of r.readers) if (!byUser.has(reader.userId)) byUser.set(reader.userId, reader);
  }
  for (const carer of carers) if (!byUser.has(carer.userId)) byUser.set(carer.userId, carer);
  byUser.delete(patientId);
  byUser.delete(myId);
  return { patient, chosen: [...byUser.values()].sort((x, y) => x.userId.localeCompare(y.userId)) };
}

/**
 * The care teams I read a patient's records through (verified records only, I a current member
 * with my key): what a note I write for her is encrypted to instead of my own key.
 */
export function teamsIReadThrough(patientId: string, deps: Pick<RecordDeps, 'me' | 'key'>, opened: readonly OpenedRecord[]): VerifiedTeam[] {
  const byId = new Map<string, VerifiedTeam>();
  for (const r of opened) {
    if (r.status !== 'verified' || r.dto.ownerId !== patientId || r.readers.some((p) => p.userId === deps.me.id)) continue;
    for (const t of r.teams) {
      if (t.team.state.members.some((m) => m.userId === deps.me.id && m.fingerprint === deps.key.fingerprint)) byId.set(t.team.state.teamId, t.team);
    }
  }
  return [...byId.values()];
}

/** Opens every record of the patient I can see (mine and my teams'), for `readersChosenBy`. */
export async function openRecordsOf(deps: RecordDeps, patientId: string): Promise<OpenedRecord[]> {
  const [own, viaTeams] = await Promise.all([fetchAllRecords(deps.call), fetchTeamRecords(deps.call)]);
  const mine = withTeamRecords(own, viaTeams).filter((r) => r.ownerId === patientId);
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
 * Creates a record for `owner` (me, or for a doctor a patient, also to `alsoReaders`, or for the
 * care teams `forTeams` she reads the patient through: then she is no reader in her own right and
 * reads it, while a member, through the team key); every
 * reader comes with the fingerprint verified data gives for them. With files: version 1 is
 * stored first (attachments need a record to belong to), the files are encrypted to the same
 * readers and uploaded, then version 2 names them with their hashes and key commitments, so
 * every file is bound to signed content. Version 2 is also written when a retry's content
 * differs from what version 1 sealed.
 */
export async function createRecord(
  deps: RecordDeps,
  input: { draft: NewRecordDraft; owner: Recipient; alsoReaders?: Recipient[]; forTeams?: VerifiedTeam[]; content: RecordContent; files: File[] },
  onProgress: Progress,
): Promise<RecordDto> {
  const { draft } = input;
  const { recordId } = draft;
  const ownerId = input.owner.userId;
  const { recipients, keys, teams } = await keysFor(deps, [input.owner, ...(input.forTeams?.length ? [] : [meAsReader(deps)]), ...(input.alsoReaders ?? [])], input.forTeams);
  const teamField = teams.length > 0 ? { teams } : {};
  const first = { ...input.content, attachments: [] };
  let dto = draft.created;
  if (!dto) {
    if (!draft.request) {
      onProgress('Encrypting the record', null);
      draft.request = { recordId, ownerId, recipients, ...teamField, message: (await seal(deps, { recordId, version: 1, ownerId, content: first, keys })).message };
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
    dto = await deps.call(endpoints.updateRecord, { params: { recordId }, body: { baseVersion: 1, recipients, ...teamField, message: next.message } });
    deps.accountState.noteSeen(recordId, 2);
  }
  // Saved before the record is shown: another device must not take an older version for it.
  await deps.accountState.flush();
  return dto;
}

/** A new version based on `base` (409 if someone else wrote first), to everyone who verifiably reads it now. */
export async function updateRecord(deps: RecordDeps, base: VerifiedRecord, input: { content: RecordContent; files: File[] }, onProgress: Progress): Promise<RecordDto> {
  const { dto: current } = base;
  const { recipients, keys, teams } = await keysFor(deps, [...base.readers, meAsReader(deps)], base.teams.map((t) => t.team));
  const refs = input.files.length > 0 ? await uploadFiles(deps, current.id, input.files, keys, onProgress) : [];
  onProgress('Encrypting the new version', null);
  const content = { ...input.content, attachments: [...input.content.attachments, ...refs] };
  const { message } = await seal(deps, { recordId: current.id, version: current.version + 1, ownerId: current.ownerId, content, keys });
  const dto = await deps.call(endpoints.updateRecord, { params: { recordId: current.id }, body: { baseVersion: current.version, recipients, teams, message } });
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
async function openAttachment(deps: RecordDeps, recordId: string, ref: AttachmentRef, onProgress: Progress, keepMessage: boolean, keyHandle: KeyHandle = deps.key.handle) {
  onProgress(`Downloading ${ref.name}`, 0);
  const message = await deps.call(endpoints.downloadAttachment, { params: { recordId, attachmentId: ref.id }, onDownloadProgress: (f) => onProgress(`Downloading ${ref.name}`, f) });
  const kept = keepMessage ? message.slice() : undefined;
  onProgress(`Decrypting ${ref.name}`, null);
  const signer = await deps.keyBook.get(ref.by);
  const pin = pinnedFingerprint(deps, ref.by);
  const opened = await deps.crypto.openFile(
    transfer({ message, keyHandle, authorPublicKey: signer.publicKey, ...(pin ? { authorFingerprint: pin as Fingerprint } : {}), expectSha256: ref.sha256 }, [message.buffer]),
    proxy((p: { done: number; total: number }) => onProgress(`Decrypting ${ref.name}`, p.total ? p.done / p.total : null)),
  );
  if (opened.status !== 'verified') throw new Error(`${ref.name} failed verification: ${describeFailure(opened)}`);
  onProgress(`Decrypted ${ref.name}`, 1);
  return { data: opened.data, message: kept };
}

/** Downloads and decrypts one file; only bytes that verify against the signed record come back. */
export async function downloadAttachment(deps: RecordDeps, recordId: string, ref: AttachmentRef, onProgress: Progress, keyHandle?: KeyHandle): Promise<Blob> {
  const { data } = await openAttachment(deps, recordId, ref, onProgress, false, keyHandle);
  return new Blob([data as BlobPart], { type: ref.type || 'application/octet-stream' });
}

/**
 * The grantee's packet for one file named in the verified content. With a key commitment, the
 * file's packets (a few hundred bytes) suffice: the worker refuses a session key that is not
 * the committed one (`key-commitment-mismatch`). A file sealed before commitments is shared
 * from its own message, once that opened against the signed SHA-256.
 */
async function filePacketFor(deps: RecordDeps, recordId: string, ref: AttachmentRef, newRecipientKey: string): Promise<string> {
  if (ref.keyCommitment) {
    const { packets } = await deps.call(endpoints.attachmentPackets, { params: { recordId, attachmentId: ref.id } });
    return deps.crypto.createRecipientPacket({
      recipientPackets: packets,
      keyHandle: deps.key.handle,
      newRecipientKey,
      expectKeyCommitment: { fileId: ref.id, commitment: ref.keyCommitment },
    });
  }
  const { message } = await openAttachment(deps, recordId, ref, () => undefined, true);
  if (!message) throw new Error(`${ref.name} could not be kept to share.`);
  return deps.crypto.createRecipientPacket(transfer({ message, keyHandle: deps.key.handle, newRecipientKey }, [message.buffer]));
}

export async function deleteRecord(deps: RecordDeps, recordId: string): Promise<void> {
  await deps.call(endpoints.deleteRecord, { params: { recordId } });
}

/** One new PKESK for the message and one per file the verified content names, for `publicKey` (no data re-encrypted). */
async function packetsFor(deps: RecordDeps, record: VerifiedRecord, publicKey: string) {
  const { dto, content } = record;
  const pkesk = await deps.crypto.createRecipientPacket({ message: dto.message, keyHandle: deps.key.handle, newRecipientKey: publicKey });
  const attachmentPackets: Record<string, string> = {};
  for (const a of content.attachments) attachmentPackets[a.id] = await filePacketFor(deps, dto.id, a, publicKey);
  return { pkesk, ...(content.attachments.length > 0 ? { attachmentPackets } : {}) };
}

/**
 * Share (DESIGN §6): one new PKESK for the message and one per attachment (they may use other
 * session keys), plus a grant signed by me. No data is re-encrypted. Only the files the
 * verified content names are shared (DESIGN §12): the server's attachment list is not asked.
 */
export async function shareRecord(deps: RecordDeps, record: VerifiedRecord, grantee: Person): Promise<AccessEntry> {
  const { dto } = record;
  const packets = await packetsFor(deps, record, grantee.publicKey);
  const { signedGrant } = await deps.crypto.createGrant({
    grant: { recordId: dto.id as RecordId, granteeUserId: grantee.id as UserId, granteeFingerprint: grantee.fingerprint as Fingerprint, grantedBy: deps.me.id as UserId, ktHead: await deps.transparency.currentHead() },
    keyHandle: deps.key.handle,
  });
  return deps.call(endpoints.grantAccess, { params: { recordId: dto.id }, body: { granteeUserId: grantee.id, signedGrant, ...packets } });
}

/**
 * Share with a care team (DESIGN §13): the same PKESKs for the team's current key, as its
 * verified statements name it, plus a team grant signed by me naming the team and its creation.
 * The cost depends neither on the record's size nor on the team's.
 */
export async function shareRecordWithTeam(deps: RecordDeps, record: VerifiedRecord, team: VerifiedTeam): Promise<TeamAccessEntry> {
  const { dto } = record;
  const packets = await packetsFor(deps, record, await teamPublicKey(deps, team, currentKeyOf(team.state)));
  const { signedGrant } = await deps.crypto.createTeamGrant({
    grant: { recordId: dto.id, teamId: team.state.teamId, genesis: team.state.genesis, grantedBy: deps.me.id },
    keyHandle: deps.key.handle,
  });
  return deps.call(endpoints.grantTeamAccess, { params: { recordId: dto.id }, body: { teamId: team.state.teamId, signedGrant, ...packets } });
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
/** Answers that mean "try again": each record gets SHARE_RETRIES more tries, 0.5 s, 1 s, 2 s apart. */
const TRANSIENT_CODES = ['database-unavailable', 'network-error'];
const SHARE_RETRIES = 3;
const RETRY_PAUSE_MS = 500;

/**
 * Shares several records with one person after one key check (issue 14): each record is fetched
 * and opened again here, and only a verified one is shared (DESIGN §12), with the same steps as
 * `shareRecord`. One failure does not stop the rest; `onProgress` gets records done so far.
 */
export function shareRecords(deps: RecordDeps, recordIds: readonly string[], grantee: Person, onProgress: (done: number, total: number) => void): Promise<ShareManyOutcome> {
  return shareEach(
    deps,
    recordIds,
    async (opened) => {
      if (opened.readers.some((r) => r.userId === grantee.id)) return 'already';
      await shareRecord(deps, opened, grantee);
      return 'shared';
    },
    onProgress,
  );
}

/** `shareRecords` with a care team (DESIGN §13), after one check of its admin's key. */
export function shareRecordsWithTeam(deps: RecordDeps, recordIds: readonly string[], team: VerifiedTeam, onProgress: (done: number, total: number) => void): Promise<ShareManyOutcome> {
  return shareEach(
    deps,
    recordIds,
    async (opened) => {
      if (opened.teams.some((t) => t.team.state.teamId === team.state.teamId)) return 'already';
      await shareRecordWithTeam(deps, opened, team);
      return 'shared';
    },
    onProgress,
  );
}

async function shareEach(deps: RecordDeps, recordIds: readonly string[], shareOpened: (opened: VerifiedRecord) => Promise<'shared' | 'already'>, onProgress: (done: number, total: number) => void): Promise<ShareManyOutcome> {
  const outcome: ShareManyOutcome = { shared: [], already: [], failed: [] };
  const queue = [...recordIds];
  let done = 0;
  onProgress(0, recordIds.length);
  const shareOne = async (recordId: string) => {
    const opened = await openRecordDto(deps, await deps.call(endpoints.getRecord, { params: { recordId } }));
    if (opened.status !== 'verified') throw new RecordTamperedError(opened);
    return shareOpened(opened);
  };
  // A record whose answer said "try again" (a busy database, a lost connection) is tried again
  // from its fetch: if the lost attempt did share it, it now opens with them among its readers.
  const shareWithRetries = async (recordId: string) => {
    for (let attempt = 0; ; attempt++) {
      try {
        const result = await shareOne(recordId);
        return attempt > 0 && result === 'already' ? 'shared' : result;
      } catch (error) {
        if (attempt >= SHARE_RETRIES || !TRANSIENT_CODES.some((code) => isApiError(error, code))) throw error;
        await new Promise((resolve) => setTimeout(resolve, RETRY_PAUSE_MS * 2 ** attempt));
      }
    }
  };
  const worker = async () => {
    for (let recordId = queue.shift(); recordId !== undefined; recordId = queue.shift()) {
      try {
        outcome[await shareWithRetries(recordId)].push(recordId);
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
  const revoked = record.readers.filter((r) => r.userId === userId).map((r) => r.fingerprint);
  if (revoked.length === 0) throw new Error('They are not among the verified readers of this record.');
  const readers = { people: [...record.readers.filter((r) => r.userId !== userId), meAsReader(deps)], teams: record.teams.map((t) => t.team) };
  const keys = await keysFor(deps, readers.people, readers.teams);
  await deps.call(endpoints.revokeAccess, { params: { recordId: record.dto.id, userId } });
  return rewriteVersion(deps, record, keys, onProgress, (sealedTo) => {
    if (sealedTo.some((fp) => revoked.includes(fp))) throw new Error('The new version would still be readable by the revoked reader. Refused.');
  });
}

/**
 * A new version of the verified content under fresh session keys, its files re-encrypted too,
 * for exactly `keys` (from keysFor); `check` sees the fingerprints it was sealed to before it is
 * sent. The old files are deleted once the new version is stored.
 */
async function rewriteVersion(deps: RecordDeps, record: VerifiedRecord, to: Awaited<ReturnType<typeof keysFor>>, onProgress: Progress, check: (sealedTo: readonly string[]) => void = () => undefined): Promise<RecordDto> {
  const { dto, content } = record;
  const files: File[] = [];
  for (const a of content.attachments) {
    const { data } = await openAttachment(deps, dto.id, a, onProgress, false, record.readingKey);
    files.push(new File([data as BlobPart], a.name, { type: a.type }));
  }
  const refs = await uploadFiles(deps, dto.id, files, to.keys, onProgress);
  onProgress('Encrypting the new version', null);
  const sealed = await seal(deps, { recordId: dto.id, version: dto.version + 1, ownerId: dto.ownerId, content: { ...content, attachments: refs }, keys: to.keys });
  check(sealed.envelope.recipients);
  const updated = await deps.call(endpoints.updateRecord, { params: { recordId: dto.id }, body: { baseVersion: dto.version, recipients: to.recipients, teams: to.teams, message: sealed.message } });
  deps.accountState.noteSeen(dto.id, updated.version);
  await deps.accountState.flush();
  for (const a of content.attachments) await deps.call(endpoints.deleteAttachment, { params: { recordId: dto.id, attachmentId: a.id } });
  return updated;
}

/**
 * Re-key after a team change (DESIGN §13): the current version again, content unchanged, signed
 * by me (an admin of the team), to the same verified people and teams, `team` now at its new
 * current key. I stay a reader only as I was (through the team). The leaver's old key opens no
 * later version.
 */
export async function rekeyForTeam(deps: RecordDeps, record: VerifiedRecord, team: VerifiedTeam, onProgress: Progress): Promise<RecordDto> {
  const teams = record.teams.map((t) => (t.team.state.teamId === team.state.teamId ? team : t.team));
  const to = await keysFor(deps, record.readers, teams);
  const retired: readonly string[] = team.state.keys.slice(0, -1).map((k) => k.fingerprint);
  return rewriteVersion(deps, record, to, onProgress, (sealedTo) => {
    if (sealedTo.some((fp) => retired.includes(fp))) throw new Error('The new version would still be encrypted to a retired team key. Refused.');
  });
}
