import {
  endpoints,
  type AccessEntry,
  type GrantRequest,
  type TeamAccessEntry,
  type CreateRecordRequest,
  type RecordDto,
  type RecordTeam,
  type Recipient,
  type TeamRecipient,
} from '@medseal/contract';
import { ApiError, isApiError } from '../../api/errors';
import {
  proxy,
  transfer,
  type KeyHandle,
  type SessionKeyHandle,
  type WorkerOpenRecordResult,
} from '../../crypto/client';
import type {
  Fingerprint,
  JsonObject,
  RecordExpectation,
  RecordId,
  TeamAttestation,
  UserId,
} from '@medseal/crypto';
import type { Person } from '../../app/keyBook';
import { canShare, pinStateNow, type ContactsDoc } from '../contacts/contactsModel';
import type { TeamBook } from '../teams/teamBook';
import {
  currentKeyOf,
  teamPublicKey,
  TeamVerificationError,
  type TeamDeps,
  type VerifiedTeam,
} from '../teams/teamService';
import { newRecordId } from './ids';
import type { OpenedRecord, ReaderTeam, VerifiedRecord } from './opened';
import { recordContentSchema, summaryOf, type AttachmentRef, type RecordContent } from './content';
import { fetchAllRecords, fetchTeamRecords, withTeamRecords } from './queries';
import { describeFailure, type RecordFailure } from './failures';
import type { TeamProblem } from '../teams/teamProblems';
import type { SummaryState } from './summaryLoader';
import { myRoleOn } from './actions';
import type { RecordSearch } from '../search/client';
import { searchDocOf } from '../search/searchDoc';

/**
 * Records from the browser's side (DESIGN §5, §6): seal and open in the worker, check every
 * record against what the server says about it, and never hand unverified content to the UI.
 */
export interface RecordDeps extends TeamDeps {
  /** Changes when the pins change; used in query keys (never put the worker proxy in a key). */
  stamp: string;
  contacts(): ContactsDoc;
  /** Care teams (verified logs) and my team keys, for the tab. */
  teams: TeamBook;
}

/** The pinned fingerprint if I pinned this person, my own for me, else none (trust on first use). */
function pinnedFingerprint(deps: RecordDeps, userId: string): string | undefined {
  if (userId === deps.me.id) return deps.key.fingerprint;
  return deps.accountState.pinOf(userId)?.fingerprint;
}

type GrantEvidence = { signedGrant: string; signerPublicKey: string };

/** The signed grants the server holds for a record (people's and teams'), with their signers' keys. */
async function grantsOf(
  deps: RecordDeps,
  recordId: string,
): Promise<{ grants: GrantEvidence[]; teamGrants: GrantEvidence[] }> {
  const { entries, teams } = await deps.call(endpoints.listAccess, { params: { recordId } });
  const evidence = async (
    list: { signedGrant?: string | undefined; grantedBy?: string | undefined }[],
  ) => {
    const out: GrantEvidence[] = [];
    for (const e of list) {
      if (!e.signedGrant || !e.grantedBy) continue;
      out.push({
        signedGrant: e.signedGrant,
        signerPublicKey: (await deps.keyBook.get(e.grantedBy)).publicKey,
      });
    }
    return out;
  };
  return { grants: await evidence(entries), teamGrants: await evidence(teams) };
}

/**
 * The record's teams, each verified from its signed log. A team whose log was refused (a removal
 * hidden, a member the server added: `TeamVerificationError`) fails the record with that
 * problem; one that could not be loaded is left out (the record then fails its reader check).
 */
async function readerTeamsOf(
  deps: RecordDeps,
  teams: readonly RecordTeam[],
): Promise<
  | ReaderTeam[]
  | { status: 'team-unverified'; problem: TeamProblem }
  | { status: 'context-mismatch'; mismatches: ['recipients'] }
> {
  // A generation this tab's copy of the team does not know yet (the team rotated since): read it again.
  const load = async (t: RecordTeam): Promise<ReaderTeam> => {
    const known = await deps.teams.team(t.teamId);
    if (known.state.keys.some((k) => k.gen === t.gen)) return { team: known, gen: t.gen };
    deps.teams.refresh(t.teamId);
    return { team: await deps.teams.team(t.teamId), gen: t.gen };
  };
  // Every listed team must load and verify. One left out would hide a reader: its fingerprint is
  // on the list the envelope is checked against, so the record would verify without it.
  const loaded = await Promise.all(
    teams.map((t) =>
      load(t).catch((error: unknown) => {
        if (error instanceof TeamVerificationError || isApiError(error, 'team-not-found'))
          return error;
        throw error;
      }),
    ),
  );
  const found: ReaderTeam[] = [];
  for (const t of loaded) {
    if (t instanceof TeamVerificationError) return { status: 'team-unverified', problem: t.result };
    // A team that does not exist: the server put a reader on the list under a made-up team.
    if (t instanceof ApiError) return { status: 'context-mismatch', mismatches: ['recipients'] };
    found.push(t);
  }
  return found;
}

/**
 * What the server's reader list must hold before it is checked against the signed envelope: no
 * person, team or fingerprint listed twice, each person found in the directory listed with their
 * key, and each team with its own key of the listed generation, as its verified statements name
 * it. The envelope check compares fingerprints as a set, so a team listed with a fingerprint
 * already on the list (a reader's) would pass it and be shown as a reader, and the next edit,
 * revoke or re-key would be sealed to that team.
 */
function readerListHolds(
  target: VersionTarget,
  people: readonly (Person | null)[],
  teams: readonly ReaderTeam[],
): boolean {
  const distinct = (values: readonly string[]) => new Set(values).size === values.length;
  // Every listed team was loaded (readerTeamsOf): its key of the listed generation must be the one listed.
  const keyHolds = (t: RecordTeam) =>
    teams
      .find((r) => r.team.state.teamId === t.teamId && r.gen === t.gen)
      ?.team.state.keys.find((k) => k.gen === t.gen)?.fingerprint === t.fingerprint;
  return (
    distinct(target.recipients.map((r) => r.userId)) &&
    distinct(target.teams.map((t) => t.teamId)) &&
    distinct([...target.recipients, ...target.teams].map((r) => r.fingerprint)) &&
    target.recipients.every((r, i) => !people[i] || people[i].fingerprint === r.fingerprint) &&
    target.teams.every(keyHolds)
  );
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
async function readingKey(
  deps: RecordDeps,
  recipients: readonly Recipient[],
  teams: readonly ReaderTeam[],
) {
  if (recipients.some((r) => r.userId === deps.me.id)) return deps.key.handle;
  const mine = teams.find((t) =>
    t.team.state.members.some(
      (m) => m.userId === deps.me.id && m.fingerprint === deps.key.fingerprint,
    ),
  );
  return mine
    ? (await deps.teams.keyFor(mine.team.state.teamId, mine.gen)).handle
    : deps.key.handle;
}

/**
 * The listed readers as the directory knows them (keys proven in the transparency log; null: not
 * found), in list order. A person's key never changes, so one listed with another fingerprint than
 * theirs is a lie (readerListHolds): a hidden reader relabelled as someone else.
 */
function listedPeople(deps: RecordDeps, readers: readonly Recipient[]): Promise<(Person | null)[]> {
  return Promise.all(readers.map((r) => deps.keyBook.get(r.userId).catch(() => null)));
}

/** What a version is, as the server serves it (a record's current version, or one from its history). */
interface VersionTarget {
  id: string;
  ownerId: string;
  authorId: string;
  rekeyedBy?: string | undefined;
  version: number;
  recipients: Recipient[];
  teams: RecordTeam[];
  message: string;
}

/** How a version is opened: with my key (or my team's), or as the base a later re-key names, with the session key it handed over. */
type OpenWith =
  { checkRollback: boolean } | { base: { sessionKeyHandle: SessionKeyHandle; dataSha256: string } };

/**
 * Opens one version's message with every check; `grants` are fetched only when needed. A re-key
 * (docs/care-teams.md "Re-keying") holds no content: its statement must verify (signed by a
 * current team admin), then the version before it opens with the session key it names and must
 * verify as that version with the same readers (a team by its newer key); its content, author
 * and signing time are the record's. Else the record fails, never shows the admin's words.
 */
async function openMessage(
  deps: RecordDeps,
  target: VersionTarget,
  how: OpenWith,
): Promise<OpenedMessage> {
  const checkRollback = 'checkRollback' in how && how.checkRollback;
  const author = await deps.keyBook.get(target.authorId);
  const ownerPin = pinnedFingerprint(deps, target.ownerId);
  const ownerFingerprint = ownerPin ?? (await deps.keyBook.get(target.ownerId)).fingerprint;
  const authorPin = pinnedFingerprint(deps, target.authorId);
  const seen = deps.accountState.highestSeen(target.id);
  const authorVerified = deps.accountState.isVerified(target.authorId, author.fingerprint);
  const teams = await readerTeamsOf(deps, target.teams);
  const none = {
    author,
    authorVerified,
    teams: [],
    attestation: null,
    keyHandle: deps.key.handle,
    rekeyedBy: null,
    unchecked: [],
  };
  if (!Array.isArray(teams)) return { result: teams, ...none };
  const people = await listedPeople(deps, target.recipients);
  const unchecked = target.recipients.flatMap((r, i) => (people[i] ? [] : [r.userId]));
  if (!readerListHolds(target, people, teams))
    return { result: { status: 'context-mismatch', mismatches: ['recipients'] }, ...none };
  const rekeyer = target.rekeyedBy ? await deps.keyBook.get(target.rekeyedBy) : null;
  const rekeyerPin = target.rekeyedBy ? pinnedFingerprint(deps, target.rekeyedBy) : undefined;
  const expect: RecordExpectation = {
    recordId: target.id as RecordId,
    version: target.version,
    ownerId: target.ownerId as UserId,
    authorId: target.authorId as UserId,
    authorPublicKey: author.publicKey,
    ...(authorPin ? { authorFingerprint: authorPin as Fingerprint } : {}),
    ownerFingerprint: ownerFingerprint as Fingerprint,
    recipients: [...target.recipients, ...target.teams].map((r) => r.fingerprint as Fingerprint),
    ...(checkRollback && seen !== undefined ? { minVersion: seen } : {}),
    ...(teams.length > 0 ? { teams: teams.map((t) => t.team.state) } : {}),
    // Readers = packets, for the current version (an older one keeps the packets of readers
    // revoked since): every listed reader's key the directory has (it matches the list:
    // readerListHolds), and each team's key of the generation listed, as its statements name it.
    ...(checkRollback
      ? {
          readerKeys: [
            ...people.flatMap((p) => (p ? [p.publicKey] : [])),
            ...(await teamReaderKeys(deps, teams)),
          ],
        }
      : {}),
    ...(rekeyer
      ? {
          rekeyedBy: {
            userId: rekeyer.id as UserId,
            publicKey: rekeyer.publicKey,
            ...(rekeyerPin ? { fingerprint: rekeyerPin as Fingerprint } : {}),
            // A base re-key was checked by the admin who re-keyed it again; she may have left since.
            check: 'base' in how ? ('vouched' as const) : ('current-admin' as const),
          },
        }
      : {}),
    ...('base' in how ? { dataSha256: how.base.dataSha256 } : {}),
  };
  const keyHandle =
    'base' in how ? deps.key.handle : await readingKey(deps, target.recipients, teams);
  const using = 'base' in how ? { sessionKeyHandle: how.base.sessionKeyHandle } : { keyHandle };
  // A team reads through a grant (DESIGN §13): its evidence is needed at once.
  let result =
    target.teams.length > 0
      ? undefined
      : await deps.crypto.openRecord({ message: target.message, expect, ...using });
  // Readers beyond the envelope's list are fine only with a valid grant (DESIGN §6): fetch them lazily.
  if (
    !result ||
    (result.status === 'context-mismatch' &&
      result.mismatches.length === 1 &&
      result.mismatches[0] === 'recipients' &&
      (result.unexpectedRecipients?.length ?? 0) > 0)
  ) {
    result = await deps.crypto.openRecord({
      message: target.message,
      expect: { ...expect, ...(await grantsOf(deps, target.id)) },
      ...using,
    });
  }
  // A re-key's result is its base's, opened with the session key it names.
  const [opened, rekeyedBy] =
    result.status === 'rekeyed'
      ? [
          (await openRekeyBase(deps, target, teams, result)).result,
          rekeyer ? { person: rekeyer, at: result.rekey.signedAt } : null,
        ]
      : [result, null];
  const attestation =
    opened.status === 'verified' ? await attestationIn(deps, teams, author) : null;
  return {
    result: opened,
    unchecked,
    author,
    authorVerified,
    teams,
    attestation,
    keyHandle,
    rekeyedBy,
  };
}

/** What openMessage found: the result (a re-key's is its base's), and who and what it was checked against. */
interface OpenedMessage {
  result: RecordFailure | Extract<WorkerOpenRecordResult, { status: 'verified' }>;
  /** Listed people whose key could not be had, so whose packet was not checked. */
  unchecked: string[];
  author: Person;
  authorVerified: boolean;
  teams: ReaderTeam[];
  attestation: TeamAttestation | null;
  keyHandle: KeyHandle;
  rekeyedBy: { person: Person; at: Date } | null;
}

/** The base of a re-key, opened with the session key it names; it must keep the re-key's author and readers. */
async function openRekeyBase(
  deps: RecordDeps,
  target: VersionTarget,
  teams: readonly ReaderTeam[],
  rekeyed: Extract<WorkerOpenRecordResult, { status: 'rekeyed' }>,
): Promise<OpenedMessage> {
  try {
    const v = await deps.call(endpoints.getRecordVersion, {
      params: { recordId: target.id, version: rekeyed.rekey.baseVersion },
    });
    const base: VersionTarget = {
      id: target.id,
      ownerId: target.ownerId,
      authorId: v.authorId,
      rekeyedBy: v.rekeyedBy,
      version: v.version,
      recipients: v.recipients,
      teams: v.teams,
      message: v.message,
    };
    const opened = await openMessage(deps, base, {
      base: {
        sessionKeyHandle: rekeyed.baseSessionKeyHandle,
        dataSha256: rekeyed.rekey.baseDataSha256,
      },
    });
    if (opened.result.status !== 'verified') return opened;
    const states = [...teams, ...opened.teams].map((t) => t.team.state);
    // A re-key keeps its base's author, and adds no reader the base was not sealed to (a team by a newer key of its own).
    const mismatch = (field: 'authorId' | 'recipients') => ({
      ...opened,
      result: { status: 'context-mismatch' as const, mismatches: [field] },
    });
    if (v.authorId !== target.authorId) return mismatch('authorId');
    const kept = await deps.crypto.rekeyAddsNoReader({
      base: opened.result.envelope.recipients,
      sealedBeyondGrants: rekeyed.rekey.sealedBeyondGrants,
      teams: states,
    });
    return kept ? opened : mismatch('recipients');
  } finally {
    await deps.crypto.forget(rekeyed.baseSessionKeyHandle);
  }
}

/** The author's attested role in one of the record's verified teams (current member with exactly this key), if any. */
async function attestationIn(
  deps: RecordDeps,
  teams: readonly ReaderTeam[],
  author: Person,
): Promise<TeamAttestation | null> {
  for (const t of teams) {
    const found = await deps.crypto.attestationOf(t.team.state, {
      userId: author.id,
      fingerprint: author.fingerprint,
    });
    if (found) return found;
  }
  return null;
}

/**
 * GET record `recordId`. A valid record with another id is refused: it verifies as itself, so
 * shown or acted on under this id it would let the server swap which record the user reads,
 * shares or deletes (DESIGN §12).
 * @throws WrongRecordError when the answer is another record.
 */
export async function fetchRecordDto(deps: RecordDeps, recordId: string): Promise<RecordDto> {
  const dto = await deps.call(endpoints.getRecord, { params: { recordId } });
  if (dto.id !== recordId) throw new WrongRecordError();
  return dto;
}

/** Fetches record `recordId` and opens it (`fetchRecordDto`, then every check of `openRecordDto`). */
export async function openRecord(deps: RecordDeps, recordId: string): Promise<OpenedRecord> {
  return openRecordDto(deps, await fetchRecordDto(deps, recordId));
}

/** The server answered a request for one record with another. */
export class WrongRecordError extends Error {
  constructor() {
    super(
      'Tamper warning: the server answered with another record than the one asked for. It is not shown, and nothing was done with it.',
    );
    this.name = 'WrongRecordError';
  }
}

export async function openRecordDto(deps: RecordDeps, dto: RecordDto): Promise<OpenedRecord> {
  const { result, unchecked, author, authorVerified, teams, attestation, keyHandle, rekeyedBy } =
    await openMessage(deps, dto, { checkRollback: true });
  if (result.status !== 'verified') return { ...result, dto };
  const parsed = recordContentSchema.safeParse(result.envelope.content);
  if (!parsed.success) return { status: 'unknown-content', dto };
  deps.accountState.noteSeen(dto.id, dto.version);
  // Gossip (DESIGN §14) in the background: a split view is an alert of its own, not this record's.
  if (result.gossip.length > 0)
    void deps.transparency.checkGossip(result.gossip, `${author.name}’s record`);
  return {
    status: 'verified',
    dto,
    content: parsed.data,
    author,
    authorVerified,
    signedAt: result.signedAt,
    readers: dto.recipients,
    uncheckedReaders: unchecked,
    signedRecipients: result.envelope.recipients,
    teams,
    attestation,
    readingKey: keyHandle,
    rekeyedBy,
  };
}

/**
 * How many of versions 1 … `last` the server's list of a record's versions leaves out (they are
 * numbered with no gap). Counted, never listed: a made-up version number must not make a list
 * that long.
 */
export function versionsLeftOut(listed: readonly number[], last: number): number {
  return last - new Set(listed.filter((n) => n <= last)).size;
}

/**
 * For the list: the same checks, reduced to a summary state. A verified record goes into my
 * search index (in its worker); one that does not verify is taken out of it.
 */
export async function summarizeRecord(
  deps: RecordDeps,
  dto: RecordDto,
  search: Pick<RecordSearch, 'put' | 'remove'>,
): Promise<Exclude<SummaryState, { status: 'pending' }>> {
  const opened = await openRecordDto(deps, dto);
  if (opened.status !== 'verified') {
    void search.remove([dto.id]);
    const { dto: _dto, ...failure } = opened;
    return { status: 'failed', failure };
  }
  void search.put([searchDocOf(dto.id, opened.content)]);
  return {
    status: 'verified',
    summary: summaryOf(opened.content),
    role: myRoleOn(opened, { id: deps.me.id, fingerprint: deps.key.fingerprint }),
    author: { id: opened.author.id, fingerprint: opened.author.fingerprint },
    signedAt: opened.signedAt,
    teams: opened.teams.map((t) => t.team.state),
  };
}

export type OpenedVersion =
  | { status: 'verified'; content: RecordContent; author: Person; signedAt: Date; message: string }
  | RecordFailure;

export async function openVersion(
  deps: RecordDeps,
  dto: RecordDto,
  version: number,
): Promise<OpenedVersion> {
  const v = await deps.call(endpoints.getRecordVersion, { params: { recordId: dto.id, version } });
  const { result, author } = await openMessage(
    deps,
    {
      id: dto.id,
      ownerId: dto.ownerId,
      authorId: v.authorId,
      rekeyedBy: v.rekeyedBy,
      // The version asked for: the signed envelope must say it is that one.
      version,
      recipients: v.recipients,
      teams: v.teams,
      message: v.message,
    },
    { checkRollback: false },
  );
  // Every version is encrypted to the record's owner (the server refuses one that is not): one
  // that is not for her was changed, never "written before it was shared with her".
  if (result.status === 'not-for-me' && dto.ownerId === deps.me.id)
    return { status: 'context-mismatch', mismatches: ['packets'] };
  if (result.status !== 'verified') return result;
  const parsed = recordContentSchema.safeParse(result.envelope.content);
  if (!parsed.success) return { status: 'unknown-content' };
  return {
    status: 'verified',
    content: parsed.data,
    author,
    signedAt: result.signedAt,
    message: v.message,
  };
}

export interface Progress {
  (stage: string, fraction: number | null): void;
}

/**
 * The keys a new version is encrypted to (DESIGN §12 "Keys"): each reader's directory key must
 * have the fingerprint that verified data (a verified record's readers, or my pins) gives for
 * them; the directory alone never decides whose key a record is encrypted to. New content is
 * never encrypted to a key whose numbers I compared and found not to match; a re-key
 * (`sameContent`: a revoke's or a team change's) still seals what that key's holder could
 * already read, so revoking someone else is never blocked by them.
 */
async function keysFor(
  deps: RecordDeps,
  readers: readonly Recipient[],
  readerTeams: readonly VerifiedTeam[] = [],
  { sameContent = false }: { sameContent?: boolean } = {},
): Promise<{ recipients: Recipient[]; keys: string[]; teams: TeamRecipient[] }> {
  const byUser = new Map<string, string>();
  for (const r of readers) {
    const known = byUser.get(r.userId);
    if (known !== undefined && known !== r.fingerprint)
      throw new Error(
        'Two different keys are named for one reader: the record’s readers do not verify. Refused.',
      );
    byUser.set(r.userId, r.fingerprint);
  }
  const people = await Promise.all([...byUser.keys()].map((id) => deps.keyBook.get(id)));
  for (const p of people) {
    const name = deps.accountState.nameOf(p.id, p.name);
    const pin = pinnedFingerprint(deps, p.id);
    if (pin && pin !== p.fingerprint)
      throw new Error(
        `${name}’s key has changed since you first saw it. Compare numbers with them under Contacts before writing to them.`,
      );
    // (A changed key is refused above: what canShare refuses beyond it is a mismatch.)
    if (
      !sameContent &&
      p.id !== deps.me.id &&
      !canShare(pinStateNow(deps.accountState.pins, p.id, p.fingerprint))
    )
      throw new Error(
        `When you compared numbers with ${name}, they did not match, so nothing new is encrypted to that key: nothing was saved. Compare the numbers with ${name} again under Contacts; until they match, ${name} cannot be a reader of what you write.`,
      );
    if (p.fingerprint !== byUser.get(p.id)) {
      throw new Error(
        `The server gave a key for ${name} that is not the one verified for them (security warning): nothing was encrypted to it. Refused.`,
      );
    }
  }
  // Each team at its current key, as its verified statements name it (DESIGN §13).
  const teamKeys = await Promise.all(
    readerTeams.map((t) => teamPublicKey(deps, t, currentKeyOf(t.state))),
  );
  return {
    recipients: people.map((p) => ({ userId: p.id, fingerprint: p.fingerprint })),
    keys: [...people.map((p) => p.publicKey), ...teamKeys],
    teams: readerTeams.map((t) => ({
      teamId: t.state.teamId,
      fingerprint: currentKeyOf(t.state).fingerprint,
    })),
  };
}

/** Me, as a reader of what I write. */
function meAsReader(deps: Pick<RecordDeps, 'me' | 'key'>): Recipient {
  return { userId: deps.me.id, fingerprint: deps.key.fingerprint };
}

/** Encrypts and uploads each file; a file found in `uploaded` (an earlier attempt) is not sent again. */
async function uploadFiles(
  deps: RecordDeps,
  recordId: string,
  files: File[],
  keys: string[],
  onProgress: Progress,
  uploaded = new Map<File, AttachmentRef>(),
): Promise<AttachmentRef[]> {
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
        transfer({ data, keyHandle: deps.key.handle, recipientKeys: keys, sessionKeyHandle }, [
          data.buffer,
        ]),
        proxy((p: { done: number; total: number }) =>
          onProgress(`Encrypting ${label}`, p.total ? p.done / p.total : null),
        ),
      );
      onProgress(`Uploading ${label}`, 0);
      const info = await deps.call(endpoints.uploadAttachment, {
        params: { recordId },
        body: sealed.message,
        onUploadProgress: (f) => onProgress(`Uploading ${label}`, f),
      });
      const keyCommitment = await deps.crypto.commitFileKey({ fileId: info.id, sessionKeyHandle });
      const ref: AttachmentRef = {
        id: info.id,
        name: file.name,
        type: file.type,
        size: file.size,
        sha256: sealed.sha256,
        by: deps.me.id,
        keyCommitment,
      };
      uploaded.set(file, ref);
      refs.push(ref);
    } finally {
      await deps.crypto.forget(sessionKeyHandle);
    }
  }
  return refs;
}

async function seal(
  deps: RecordDeps,
  input: {
    recordId: string;
    version: number;
    ownerId: string;
    content: RecordContent;
    keys: string[];
  },
) {
  // JSON round trip: drops undefined fields, which the canonical envelope cannot hold.
  const content = JSON.parse(JSON.stringify(input.content)) as JsonObject;
  // The head I saw travels with what I sign, so my readers can check their view against mine.
  const ktHead = await deps.transparency.currentHead();
  return deps.crypto.sealRecord({
    envelope: {
      recordId: input.recordId as RecordId,
      version: input.version,
      ownerId: input.ownerId as UserId,
      authorId: deps.me.id as UserId,
      createdAt: new Date().toISOString(),
      content,
      ktHead,
    },
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
export function readersChosenBy(
  patientId: string,
  myId: string,
  opened: readonly OpenedRecord[],
  carers: readonly Recipient[] = [],
): { patient: Recipient | null; chosen: Recipient[] } {
  let patient: Recipient | null = null;
  const byUser = new Map<string, Recipient>();
  for (const r of opened) {
    if (r.status !== 'verified' || r.dto.ownerId !== patientId) continue;
    patient ??= r.readers.find((reader) => reader.userId === patientId) ?? null;
    if (r.author.id !== patientId) continue;
    for (const reader of r.readers)
      if (!byUser.has(reader.userId)) byUser.set(reader.userId, reader);
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
export function teamsIReadThrough(
  patientId: string,
  deps: Pick<RecordDeps, 'me' | 'key'>,
  opened: readonly OpenedRecord[],
): VerifiedTeam[] {
  const byId = new Map<string, VerifiedTeam>();
  for (const r of opened) {
    if (r.status !== 'verified' || r.dto.ownerId !== patientId) continue;
    for (const team of teamsIReadRecordThrough(deps, r)) byId.set(team.state.teamId, team);
  }
  return [...byId.values()];
}

/** The record's verified teams I am a current member of (with my key), when I am not a reader in my own right. */
function teamsIReadRecordThrough(
  deps: Pick<RecordDeps, 'me' | 'key'>,
  record: VerifiedRecord,
): VerifiedTeam[] {
  if (record.readers.some((p) => p.userId === deps.me.id)) return [];
  return record.teams
    .map((t) => t.team)
    .filter((team) =>
      team.state.members.some(
        (m) => m.userId === deps.me.id && m.fingerprint === deps.key.fingerprint,
      ),
    );
}

/**
 * Who a new version of `base` goes to (DESIGN §12 "Readers", §13): its verified readers, and me
 * as its writer unless I read it already, in my own right or through a care team. Then the team reads my version as it
 * read the last one, and I do not become a reader in my own right, who would keep reading after
 * leaving the team (the server refuses that: `member-changes-readers`).
 */
export function readersOfNextVersion(
  deps: Pick<RecordDeps, 'me' | 'key'>,
  base: VerifiedRecord,
): Recipient[] {
  const alreadyReads =
    base.readers.some((r) => r.userId === deps.me.id) ||
    teamsIReadRecordThrough(deps, base).length > 0;
  return checkedReaders(
    base,
    alreadyReads ? [...base.readers] : [...base.readers, meAsReader(deps)],
  );
}

/**
 * `readers`, when each of them had her packet in `base` checked as it was opened; else refused:
 * a reader listed with an old signed grant whose key the server withheld at that moment (so her
 * missing packet went unseen) would get everything written from then on.
 * @throws Error naming why, nothing encrypted.
 */
function checkedReaders(base: VerifiedRecord, readers: Recipient[]): Recipient[] {
  if (readers.some((r) => base.uncheckedReaders.includes(r.userId)))
    throw new Error(
      'The key of a reader of this record could not be checked when it was opened (the server did not give it), so nothing new is encrypted: nothing was saved. Open the record again and retry; a reader who stays unknown may have been added by the server (security warning).',
    );
  return readers;
}

/** Opens every record of the patient I can see (mine and my teams'), for `readersChosenBy`. */
export async function openRecordsOf(deps: RecordDeps, patientId: string): Promise<OpenedRecord[]> {
  const [own, viaTeams] = await Promise.all([
    fetchAllRecords(deps.call),
    fetchTeamRecords(deps.call),
  ]);
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
  input: {
    draft: NewRecordDraft;
    owner: Recipient;
    alsoReaders?: Recipient[];
    forTeams?: VerifiedTeam[];
    content: RecordContent;
    files: File[];
  },
  onProgress: Progress,
): Promise<RecordDto> {
  const { draft } = input;
  // A request sealed to a team key the server says is retired is sealed again to the current one.
  const forgetStaleRequest = () => {
    if (draft.created) return;
    delete draft.request;
    delete draft.requestContent;
  };
  return withCurrentTeams(
    deps,
    input.forTeams ?? [],
    (forTeams) => createWith(deps, { ...input, forTeams }, onProgress),
    forgetStaleRequest,
  );
}

async function createWith(
  deps: RecordDeps,
  input: {
    draft: NewRecordDraft;
    owner: Recipient;
    alsoReaders?: Recipient[];
    forTeams: VerifiedTeam[];
    content: RecordContent;
    files: File[];
  },
  onProgress: Progress,
): Promise<RecordDto> {
  const { draft } = input;
  const { recordId } = draft;
  const ownerId = input.owner.userId;
  const { recipients, keys, teams } = await keysFor(
    deps,
    [
      input.owner,
      ...(input.forTeams.length ? [] : [meAsReader(deps)]),
      ...(input.alsoReaders ?? []),
    ],
    input.forTeams,
  );
  const teamField = teams.length > 0 ? { teams } : {};
  const first = { ...input.content, attachments: [] };
  let dto = draft.created;
  if (!dto) {
    if (!draft.request) {
      onProgress('Encrypting the record', null);
      draft.request = {
        recordId,
        ownerId,
        recipients,
        ...teamField,
        message: (await seal(deps, { recordId, version: 1, ownerId, content: first, keys }))
          .message,
      };
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
    dto = await deps.call(endpoints.updateRecord, {
      params: { recordId },
      body: { baseVersion: 1, recipients, ...teamField, message: next.message },
    });
    deps.accountState.noteSeen(recordId, 2);
  }
  // Saved before the record is shown: another device must not take an older version for it.
  await deps.accountState.flush();
  return dto;
}

/** A new version based on `base` (409 if someone else wrote first), to everyone who verifiably reads it now. */
export function updateRecord(
  deps: RecordDeps,
  base: VerifiedRecord,
  input: { content: RecordContent; files: File[] },
  onProgress: Progress,
): Promise<RecordDto> {
  return withCurrentTeams(
    deps,
    base.teams.map((t) => t.team),
    (teams) => updateWith(deps, base, teams, input, onProgress),
  );
}

/**
 * Runs a write sealed to care teams at their current keys. When the server answers that a team's
 * key is not its current one (it rotated since this tab read the team: 400
 * `team-key-not-current`), the teams' histories are read again (verified as ever) and the write
 * is made once more with their new keys. A second such answer ends in plain words.
 * @throws TeamKeyChangedError, and whatever `write` throws.
 */
async function withCurrentTeams<T>(
  deps: RecordDeps,
  teams: readonly VerifiedTeam[],
  write: (teams: VerifiedTeam[]) => Promise<T>,
  beforeRetry: () => void = () => undefined,
): Promise<T> {
  try {
    return await write([...teams]);
  } catch (error) {
    if (teams.length === 0 || !isApiError(error, 'team-key-not-current')) throw error;
  }
  for (const t of teams) deps.teams.refresh(t.state.teamId);
  const fresh = await Promise.all(teams.map((t) => deps.teams.team(t.state.teamId)));
  beforeRetry();
  try {
    return await write(fresh);
  } catch (error) {
    if (isApiError(error, 'team-key-not-current')) throw new TeamKeyChangedError(error);
    throw error;
  }
}

/** A care team changed its key while this was being saved, and the new key could not be used: nothing was saved. */
export class TeamKeyChangedError extends Error {
  constructor(cause: unknown) {
    super(
      'A care team this record is shared with has just changed its key, so your change was not saved. Reload the page and save again.',
      { cause },
    );
    this.name = 'TeamKeyChangedError';
  }
}

async function updateWith(
  deps: RecordDeps,
  base: VerifiedRecord,
  readerTeams: VerifiedTeam[],
  input: { content: RecordContent; files: File[] },
  onProgress: Progress,
): Promise<RecordDto> {
  const { dto: current } = base;
  const { recipients, keys, teams } = await keysFor(
    deps,
    readersOfNextVersion(deps, base),
    readerTeams,
  );
  const refs =
    input.files.length > 0
      ? await uploadFiles(deps, current.id, input.files, keys, onProgress)
      : [];
  // Every file of the base, those this version drops too: they are deleted only after it.
  const packets = await keptFilePackets(deps, base, readerTeams, base.content.attachments);
  onProgress('Encrypting the new version', null);
  const content = { ...input.content, attachments: [...input.content.attachments, ...refs] };
  const { message } = await seal(deps, {
    recordId: current.id,
    version: current.version + 1,
    ownerId: current.ownerId,
    content,
    keys,
  });
  const dto = await deps.call(endpoints.updateRecord, {
    params: { recordId: current.id },
    body: { baseVersion: current.version, recipients, teams, message, ...packets },
  });
  // What this client sealed, not the server's number (a huge one would refuse the record for good).
  deps.accountState.noteSeen(current.id, current.version + 1);
  await deps.accountState.flush();
  const kept = new Set(content.attachments.map((a) => a.id));
  for (const a of base.content.attachments) {
    if (!kept.has(a.id))
      await deps.call(endpoints.deleteAttachment, {
        params: { recordId: current.id, attachmentId: a.id },
      });
  }
  return dto;
}

/**
 * For a version that moves a team to its new key (it rotated since `base` was written, and the
 * re-key has not reached the record): per file of `base` (the server asks for every file it
 * lists, a dropped one too), that key's packet, made from the file's packets with the key I read
 * `base` with. Without them the team's members, who open a file with the key its version names,
 * could not open the kept files (docs/care-teams.md).
 */
async function keptFilePackets(
  deps: RecordDeps,
  base: VerifiedRecord,
  teams: readonly VerifiedTeam[],
  files: readonly AttachmentRef[],
): Promise<{ attachmentPackets?: Record<string, string[]> }> {
  const moved = teams.filter((t) => {
    const was = base.teams.find((r) => r.team.state.teamId === t.state.teamId);
    return was !== undefined && was.gen < currentKeyOf(t.state).gen;
  });
  if (moved.length === 0 || files.length === 0) return {};
  const keys = await Promise.all(moved.map((t) => teamPublicKey(deps, t, currentKeyOf(t.state))));
  const attachmentPackets: Record<string, string[]> = {};
  for (const a of files) {
    attachmentPackets[a.id] = await Promise.all(
      keys.map((k) => filePacketFor(deps, base.dto.id, a, k, base.readingKey)),
    );
  }
  return { attachmentPackets };
}

/**
 * Downloads one file and opens it against the signed record: the signer named there, its
 * pinned key, its SHA-256. `keepMessage` also returns the ciphertext (to share a file sealed
 * before key commitments from the very message that verified).
 */
async function openAttachment(
  deps: RecordDeps,
  recordId: string,
  ref: AttachmentRef,
  onProgress: Progress,
  keepMessage: boolean,
  keyHandle: KeyHandle = deps.key.handle,
) {
  onProgress(`Downloading ${ref.name}`, 0);
  const message = await deps.call(endpoints.downloadAttachment, {
    params: { recordId, attachmentId: ref.id },
    onDownloadProgress: (f) => onProgress(`Downloading ${ref.name}`, f),
  });
  const kept = keepMessage ? message.slice() : undefined;
  onProgress(`Decrypting ${ref.name}`, null);
  const signer = await deps.keyBook.get(ref.by);
  const pin = pinnedFingerprint(deps, ref.by);
  const opened = await deps.crypto.openFile(
    transfer(
      {
        message,
        keyHandle,
        authorPublicKey: signer.publicKey,
        ...(pin ? { authorFingerprint: pin as Fingerprint } : {}),
        expectSha256: ref.sha256,
      },
      [message.buffer],
    ),
    proxy((p: { done: number; total: number }) =>
      onProgress(`Decrypting ${ref.name}`, p.total ? p.done / p.total : null),
    ),
  );
  if (opened.status !== 'verified')
    throw new Error(`${ref.name} failed verification: ${describeFailure(opened)}`);
  onProgress(`Decrypted ${ref.name}`, 1);
  return { data: opened.data, message: kept };
}

/** Downloads and decrypts one file; only bytes that verify against the signed record come back. */
export async function downloadAttachment(
  deps: RecordDeps,
  recordId: string,
  ref: AttachmentRef,
  onProgress: Progress,
  keyHandle?: KeyHandle,
): Promise<Blob> {
  const { data } = await openAttachment(deps, recordId, ref, onProgress, false, keyHandle);
  return new Blob([data as BlobPart], { type: ref.type || 'application/octet-stream' });
}

/** A file's OpenPGP message (for the export), returned only once it opened against the signed record. */
export async function verifiedAttachmentMessage(
  deps: RecordDeps,
  recordId: string,
  ref: AttachmentRef,
  onProgress: Progress,
  keyHandle?: KeyHandle,
): Promise<Uint8Array> {
  const { message } = await openAttachment(deps, recordId, ref, onProgress, true, keyHandle);
  return message ?? new Uint8Array();
}

/**
 * The grantee's packet for one file named in the verified content. With a key commitment, the
 * file's packets (a few hundred bytes) suffice: the worker refuses a session key that is not
 * the committed one (`key-commitment-mismatch`). A file sealed before commitments is shared
 * from its own message, once that opened against the signed SHA-256.
 */
async function filePacketFor(
  deps: RecordDeps,
  recordId: string,
  ref: AttachmentRef,
  newRecipientKey: string,
  keyHandle: KeyHandle = deps.key.handle,
): Promise<string> {
  if (ref.keyCommitment) {
    const { packets } = await deps.call(endpoints.attachmentPackets, {
      params: { recordId, attachmentId: ref.id },
    });
    return deps.crypto.createRecipientPacket({
      recipientPackets: packets,
      keyHandle,
      newRecipientKey,
      expectKeyCommitment: { fileId: ref.id, commitment: ref.keyCommitment },
    });
  }
  const { message } = await openAttachment(deps, recordId, ref, () => undefined, true, keyHandle);
  if (!message) throw new Error(`${ref.name} could not be kept to share.`);
  return deps.crypto.createRecipientPacket(
    transfer({ message, keyHandle, newRecipientKey }, [message.buffer]),
  );
}

/**
 * Deletes a record. My signed account state keeps that I deleted it first: the access log
 * believes a deletion only from there (a delete that then fails leaves a record listed, which
 * the log reads as usual).
 */
export async function deleteRecord(deps: RecordDeps, recordId: string): Promise<void> {
  await deps.accountState.noteDeleted(recordId);
  await deps.call(endpoints.deleteRecord, { params: { recordId } });
}

/** One new PKESK for the message and one per file the verified content names, for `publicKey` (no data re-encrypted). */
async function packetsFor(deps: RecordDeps, record: VerifiedRecord, publicKey: string) {
  const { dto, content } = record;
  const pkesk = await deps.crypto.createRecipientPacket({
    message: dto.message,
    keyHandle: deps.key.handle,
    newRecipientKey: publicKey,
  });
  const attachmentPackets: Record<string, string> = {};
  for (const a of content.attachments)
    attachmentPackets[a.id] = await filePacketFor(deps, dto.id, a, publicKey);
  return { pkesk, ...(content.attachments.length > 0 ? { attachmentPackets } : {}) };
}

/**
 * Share (DESIGN §6): one new PKESK for the message and one per attachment (they may use other
 * session keys), plus a grant signed by me. No data is re-encrypted. Only the files the
 * verified content names are shared (DESIGN §12): the server's attachment list is not asked.
 */
export async function shareRecord(
  deps: RecordDeps,
  record: VerifiedRecord,
  grantee: Person,
): Promise<AccessEntry> {
  return deps.call(endpoints.grantAccess, {
    params: { recordId: record.dto.id },
    body: await grantFor(deps, record, grantee),
  });
}

/** What sharing `record` with `grantee` sends: the packets and a grant signed by me. */
async function grantFor(
  deps: RecordDeps,
  record: VerifiedRecord,
  grantee: Person,
): Promise<GrantRequest> {
  const { dto } = record;
  const packets = await packetsFor(deps, record, grantee.publicKey);
  const { signedGrant } = await deps.crypto.createGrant({
    grant: {
      recordId: dto.id as RecordId,
      granteeUserId: grantee.id as UserId,
      granteeFingerprint: grantee.fingerprint as Fingerprint,
      grantedBy: deps.me.id as UserId,
      ktHead: await deps.transparency.currentHead(),
    },
    keyHandle: deps.key.handle,
  });
  return { granteeUserId: grantee.id, signedGrant, ...packets };
}

/**
 * Share with a care team (DESIGN §13): the same PKESKs for the team's current key, as its
 * verified statements name it, plus a team grant signed by me naming the team and its creation.
 * The cost depends neither on the record's size nor on the team's.
 */
export async function shareRecordWithTeam(
  deps: RecordDeps,
  record: VerifiedRecord,
  team: VerifiedTeam,
): Promise<TeamAccessEntry> {
  const { dto } = record;
  const packets = await packetsFor(
    deps,
    record,
    await teamPublicKey(deps, team, currentKeyOf(team.state)),
  );
  const { signedGrant } = await deps.crypto.createTeamGrant({
    grant: {
      recordId: dto.id,
      teamId: team.state.teamId,
      genesis: team.state.genesis,
      grantedBy: deps.me.id,
    },
    keyHandle: deps.key.handle,
  });
  return deps.call(endpoints.grantTeamAccess, {
    params: { recordId: dto.id },
    body: { teamId: team.state.teamId, signedGrant, ...packets },
  });
}

/** What sharing several records did; each failure keeps its error for the UI to word. */
export interface ShareManyOutcome {
  shared: string[];
  /** The person could already read these (named by the verified readers). */
  already: string[];
  failed: { recordId: string; error: unknown }[];
}

/** Records fetched, verified and sealed at once: the worker opens one while the next answers arrive. */
const PREPARE_CONCURRENCY = 6;
/** Grants sent per batch request: the first batch leaves while the rest are prepared. */
const GRANTS_PER_BATCH = 25;
/** Answers that mean "try again": each record gets SHARE_RETRIES more tries, 0.5 s, 1 s, 2 s apart. */
const TRANSIENT_CODES = ['database-unavailable', 'network-error', 'version-conflict'];
const SHARE_RETRIES = 3;
const RETRY_PAUSE_MS = 500;

/** How several records are shared with one grantee: what to send for a verified record, and how to send a few. */
interface ShareTarget<T> {
  /** `already` when the verified readers include the grantee. */
  prepare: (opened: VerifiedRecord) => Promise<T | 'already'>;
  /** Sends prepared shares; per item, in order, null when it was stored, else why not. */
  send: (items: { recordId: string; share: T }[]) => Promise<unknown[]>;
  batchSize: number;
}

/**
 * Shares several records with one person after one key check (issue 14): each record is fetched
 * and opened again here, and only a verified one is shared (DESIGN §12), with the packets and
 * signed grant of `shareRecord`; the grants go to the server in batches (`POST /grants`), which
 * checks and stores each as the single route does. One failure does not stop the rest;
 * `onProgress` gets records done so far.
 */
export function shareRecords(
  deps: RecordDeps,
  recordIds: readonly string[],
  grantee: Person,
  onProgress: (done: number, total: number) => void,
): Promise<ShareManyOutcome> {
  return shareEach(
    deps,
    recordIds,
    {
      prepare: async (opened) =>
        opened.readers.some((r) => r.userId === grantee.id)
          ? 'already'
          : grantFor(deps, opened, grantee),
      send: async (items) => {
        // A batch of one (sharing one record) goes to the record's own route.
        const [only] = items;
        if (only && items.length === 1) {
          return deps
            .call(endpoints.grantAccess, { params: { recordId: only.recordId }, body: only.share })
            .then(
              () => [null],
              (error: unknown) => [error],
            );
        }
        const { results } = await deps.call(endpoints.grantAccessBatch, {
          body: { grants: items.map((i) => ({ recordId: i.recordId, ...i.share })) },
        });
        return items.map((item, n) => {
          const result = results[n];
          if (result?.recordId !== item.recordId)
            return new Error('The server answered for other records than were sent.');
          return result.status === 'shared'
            ? null
            : new ApiError({
                status: result.httpStatus,
                code: result.error.code,
                message: result.error.message,
              });
        });
      },
      batchSize: GRANTS_PER_BATCH,
    },
    onProgress,
  );
}

/** `shareRecords` with a care team (DESIGN §13), after one check of its admin's key; one request per record. */
export function shareRecordsWithTeam(
  deps: RecordDeps,
  recordIds: readonly string[],
  team: VerifiedTeam,
  onProgress: (done: number, total: number) => void,
): Promise<ShareManyOutcome> {
  return shareEach(
    deps,
    recordIds,
    {
      prepare: async (opened) =>
        opened.teams.some((t) => t.team.state.teamId === team.state.teamId) ? 'already' : opened,
      send: ([item]) =>
        item
          ? shareRecordWithTeam(deps, item.share, team).then(
              () => [null],
              (error: unknown) => [error],
            )
          : Promise.resolve([]),
      batchSize: 1,
    },
    onProgress,
  );
}

/**
 * Fetches, verifies and prepares the records a few at a time, sends them as batches fill, and
 * tries again those whose answer said "try again" (a busy database, a lost connection, a record
 * changed meanwhile), from their fetch: if a lost attempt did share one, it now opens with the
 * grantee among its readers, which counts as shared.
 */
async function shareEach<T>(
  deps: RecordDeps,
  recordIds: readonly string[],
  target: ShareTarget<T>,
  onProgress: (done: number, total: number) => void,
): Promise<ShareManyOutcome> {
  const outcome: ShareManyOutcome = { shared: [], already: [], failed: [] };
  let done = 0;
  onProgress(0, recordIds.length);
  let pending = [...recordIds];
  for (let attempt = 0; pending.length > 0; attempt++) {
    if (attempt > 0)
      await new Promise((resolve) => setTimeout(resolve, RETRY_PAUSE_MS * 2 ** (attempt - 1)));
    const again: string[] = [];
    const settle = (recordId: string, result: 'shared' | 'already' | { error: unknown }) => {
      if (
        typeof result === 'object' &&
        attempt < SHARE_RETRIES &&
        TRANSIENT_CODES.some((code) => isApiError(result.error, code))
      ) {
        again.push(recordId);
        return;
      }
      if (typeof result === 'object') outcome.failed.push({ recordId, error: result.error });
      else outcome[attempt > 0 && result === 'already' ? 'shared' : result].push(recordId);
      done += 1;
      onProgress(done, recordIds.length);
    };
    await shareRound(deps, pending, target, settle);
    pending = again;
  }
  return outcome;
}

/** One pass over `recordIds`: each settles once, as shared, already or an error. */
async function shareRound<T>(
  deps: RecordDeps,
  recordIds: readonly string[],
  target: ShareTarget<T>,
  settle: (recordId: string, result: 'shared' | 'already' | { error: unknown }) => void,
): Promise<void> {
  const queue = [...recordIds];
  const batch: { recordId: string; share: T }[] = [];
  // One request in flight at a time: the server works through a batch's grants together, and
  // two batches at once only contend for the database (measured: slower, not faster).
  let sending: Promise<void> = Promise.resolve();
  const flush = () => {
    const items = batch.splice(0);
    if (items.length === 0) return;
    sending = sending.then(() =>
      target.send(items).then(
        (errors) =>
          items.forEach((item, i) =>
            settle(item.recordId, errors[i] ? { error: errors[i] } : 'shared'),
          ),
        (error: unknown) => items.forEach((item) => settle(item.recordId, { error })),
      ),
    );
  };
  const prepareNext = async () => {
    for (let recordId = queue.shift(); recordId !== undefined; recordId = queue.shift()) {
      try {
        const opened = await openRecord(deps, recordId);
        if (opened.status !== 'verified') throw new RecordTamperedError(opened);
        const share = await target.prepare(opened);
        if (share === 'already') settle(recordId, 'already');
        else if (batch.push({ recordId, share }) >= target.batchSize) flush();
      } catch (error) {
        settle(recordId, { error });
      }
    }
  };
  await Promise.all(
    Array.from({ length: Math.min(PREPARE_CONCURRENCY, queue.length) }, prepareNext),
  );
  flush();
  await sending;
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
export async function revokeAccess(
  deps: RecordDeps,
  record: VerifiedRecord,
  userId: string,
  onProgress: Progress,
): Promise<RecordDto> {
  const revoked = record.readers.filter((r) => r.userId === userId).map((r) => r.fingerprint);
  if (revoked.length === 0)
    throw new Error('They are not among the verified readers of this record.');
  const readers = {
    people: checkedReaders(record, [
      ...record.readers.filter((r) => r.userId !== userId),
      meAsReader(deps),
    ]),
    teams: record.teams.map((t) => t.team),
  };
  const keys = await keysFor(deps, readers.people, readers.teams, { sameContent: true });
  await deps.call(endpoints.revokeAccess, { params: { recordId: record.dto.id, userId } });
  const updated = await rewriteVersion(deps, record, keys, onProgress, (sealedTo) => {
    if (sealedTo.some((fp) => revoked.includes(fp)))
      throw new Error('The new version would still be readable by the revoked reader. Refused.');
  });
  // Saved before the record is shown again: another device must not take an older version for it.
  await deps.accountState.flush();
  return updated;
}

/**
 * A new version of the verified content under fresh session keys, its files re-encrypted too,
 * for exactly `keys` (from keysFor); `check` sees the fingerprints it was sealed to before it is
 * sent. The old files are deleted once the new version is stored. The version is noted as seen;
 * the caller saves the account state when it must be saved.
 */
async function rewriteVersion(
  deps: RecordDeps,
  record: VerifiedRecord,
  to: Awaited<ReturnType<typeof keysFor>>,
  onProgress: Progress,
  check: (sealedTo: readonly string[]) => void = () => undefined,
): Promise<RecordDto> {
  const { dto, content } = record;
  const files: File[] = [];
  for (const a of content.attachments) {
    const { data } = await openAttachment(deps, dto.id, a, onProgress, false, record.readingKey);
    files.push(new File([data as BlobPart], a.name, { type: a.type }));
  }
  const refs = await uploadFiles(deps, dto.id, files, to.keys, onProgress);
  onProgress('Encrypting the new version', null);
  const sealed = await seal(deps, {
    recordId: dto.id,
    version: dto.version + 1,
    ownerId: dto.ownerId,
    content: { ...content, attachments: refs },
    keys: to.keys,
  });
  check(sealed.envelope.recipients);
  const updated = await deps.call(endpoints.updateRecord, {
    params: { recordId: dto.id },
    body: {
      baseVersion: dto.version,
      recipients: to.recipients,
      teams: to.teams,
      message: sealed.message,
    },
  });
  deps.accountState.noteSeen(dto.id, dto.version + 1);
  for (const a of content.attachments)
    await deps.call(endpoints.deleteAttachment, {
      params: { recordId: dto.id, attachmentId: a.id },
    });
  return updated;
}

/**
 * Re-key after a team change (DESIGN §13, docs/care-teams.md "Re-keying"): a new version that
 * holds only my signed statement naming the current version (its number, message hash and
 * session key), sealed under a fresh session key to the same verified people and teams, each
 * team at its current key; and, for each file the verified content names, the new team key's
 * packet in place of the retired one's. The content stays the author's, signed by her: readers
 * open it from the version named, so I cannot change it. No consent to write is needed. The
 * leaver's retired key opens no part of it. Noted as seen; `rekeyTeam` saves in batches.
 * @throws ApiError `version-conflict` (changed meanwhile), `already-rekeyed` (another admin did it).
 */
export async function rekeyForTeam(
  deps: RecordDeps,
  record: VerifiedRecord,
  team: VerifiedTeam,
): Promise<RecordDto> {
  const { dto, content } = record;
  const teams = record.teams.map((t) =>
    t.team.state.teamId === team.state.teamId ? team : t.team,
  );
  const to = await keysFor(deps, checkedReaders(record, record.readers), teams, {
    sameContent: true,
  });
  const sealed = await deps.crypto.sealRekey({
    rekey: {
      recordId: dto.id as RecordId,
      version: dto.version + 1,
      ownerId: dto.ownerId as UserId,
      teamId: team.state.teamId,
      genesis: team.state.genesis,
    },
    baseMessage: dto.message,
    keyHandle: record.readingKey,
    signerHandle: deps.key.handle,
    recipientKeys: to.keys,
  });
  const retired: readonly string[] = team.state.keys.slice(0, -1).map((k) => k.fingerprint);
  if (sealed.recipients.some((fp) => retired.includes(fp)))
    throw new Error('The new version would still be encrypted to a retired team key. Refused.');
  const teamKey = await teamPublicKey(deps, team, currentKeyOf(team.state));
  const attachmentPackets: Record<string, string> = {};
  for (const a of content.attachments)
    attachmentPackets[a.id] = await filePacketFor(deps, dto.id, a, teamKey, record.readingKey);
  const updated = await deps.call(endpoints.rekeyRecord, {
    params: { recordId: dto.id },
    body: {
      baseVersion: dto.version,
      teamId: team.state.teamId,
      message: sealed.message,
      ...(content.attachments.length > 0 ? { attachmentPackets } : {}),
    },
  });
  deps.accountState.noteSeen(dto.id, dto.version + 1);
  return updated;
}
