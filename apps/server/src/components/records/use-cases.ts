import type {
  CreateRecordRequest,
  Recipient,
  TeamRecipient,
  RecordDto,
  RecordHistoryResponse,
  RecordListResponse,
  UpdateRecordRequest,
} from '@medseal/contract';
import { MAX_RECORD_MESSAGE_CHARS } from '@medseal/contract';
import { AppError } from '../../lib/errors';
import { checkMessage } from '../../lib/pgp';
import { JsonBytes } from '../../lib/routing';
import type { Services } from '../../services';
import { requireConsent } from '../consents/use-cases';
import { grantId, teamGrantId } from '../sharing/model';
import { isTeamMember, teamForRecords, type RecordTeam } from '../teams/use-cases';
import { appendAudit, appendListReads, trailEndsDeleted, trailOwnerOf } from '../audit/use-cases';
import { recordChanged, recordsChanged, roleOf, rolesOf, type RecordRole } from './access';
import { withRevClaim } from './rev-claim';
import { addAttachmentPackets, dropAttachmentPackets, keptFilePackets } from './attachments';
import {
  toAttachmentInfo,
  type AttachmentDoc,
  type RecordDoc,
  type RecordTeamDoc,
  type RecordVersionDoc,
} from './model';
import { isDuplicateKey } from '../../lib/db';
import { chainEnd, chainId, chainIds, deleteByIds, findByIds } from '../../lib/store';
import { isListedAt, teamFeedId } from './feed';
import { deleteRecordAttachments, listAttachments, listAttachmentsOfMany } from './attachment-list';

const iso = (d: Date) => d.toISOString();

export function toRecordDto(r: RecordDoc, attachments: AttachmentDoc[]): RecordDto {
  return {
    id: r._id,
    ownerId: r.ownerId,
    authorId: r.authorId,
    recipients: r.recipients.map((x) => ({ userId: x.userId, fingerprint: x.fingerprint })),
    teams: teamsOf(r),
    version: r.version,
    ...(r.rekeyedBy ? { rekeyedBy: r.rekeyedBy } : {}),
    createdAt: iso(r.createdAt),
    updatedAt: iso(r.updatedAt),
    message: r.message,
    attachments: attachments.map(toAttachmentInfo),
  };
}

const teamsOf = (r: { teams?: RecordTeamDoc[] | undefined }) =>
  (r.teams ?? []).map((t) => ({ teamId: t.teamId, fingerprint: t.fingerprint, gen: t.gen }));

/**
 * Checks the care teams a new version is encrypted to (DESIGN §13): each exists, named once,
 * with its current key (a version sealed to a retired key is refused: after a rotation, a
 * writer must use the new key). On a new record the author must be a current member of each
 * (she writes for her team); on an update, only teams the record already has may stay (adding
 * a team is a grant the owner or author signs). Returns the teams as stored, with whether the
 * author is a current member of one of them, their public keys, and the granted teams whose key
 * the new version moves (a rotation since the record's current version).
 *
 * @throws AppError 400 `duplicate-team`, `team-key-not-current`, `team-not-granted`; 404
 *   `team-not-found`; 403 `not-team-member`.
 */
async function resolveTeams(
  s: Services,
  input: {
    teams: readonly TeamRecipient[] | undefined;
    authorId: string;
    granted: readonly RecordTeamDoc[] | null;
  },
) {
  const teams = input.teams ?? [];
  if (new Set(teams.map((t) => t.teamId)).size !== teams.length)
    throw new AppError({ status: 400, code: 'duplicate-team', message: 'A team is named twice.' });
  const resolved = await Promise.all(teams.map((t) => teamForRecords(s, t.teamId)));
  let authorIsMember = false;
  const docs: RecordTeamDoc[] = [];
  const keys: string[] = [];
  const moved: RecordTeam[] = [];
  for (const [i, wanted] of teams.entries()) {
    const team = resolved[i];
    if (!team)
      throw new AppError({
        status: 404,
        code: 'team-not-found',
        message: 'No such team.',
        details: { teamId: wanted.teamId },
      });
    const member = team.state.members.some((m) => m.userId === input.authorId);
    if (input.granted === null && !member)
      throw new AppError({
        status: 403,
        code: 'not-team-member',
        message: 'You may write a record for a team only as its member.',
      });
    if (input.granted !== null && !input.granted.some((g) => g.teamId === wanted.teamId)) {
      throw new AppError({
        status: 400,
        code: 'team-not-granted',
        message: 'The record is not shared with this team; share it first.',
      });
    }
    if (wanted.fingerprint !== team.key.fingerprint) {
      throw new AppError({
        status: 400,
        code: 'team-key-not-current',
        message: "A team's key is not its current key.",
        details: { teamId: wanted.teamId },
      });
    }
    authorIsMember ||= member;
    docs.push({ teamId: wanted.teamId, fingerprint: team.key.fingerprint, gen: team.key.gen });
    keys.push(team.key.publicKey);
    const was = input.granted?.find((g) => g.teamId === wanted.teamId);
    if (was && was.gen < team.key.gen) moved.push(team);
  }
  return { teams: docs, keys, authorIsMember, moved };
}

/**
 * Checks declared recipients against the directory: every user exists, the fingerprint
 * the client names is the one the server computed from the stored key, no one twice, and
 * the owner and the writer are among them. Returns their stored public keys.
 *
 * @throws AppError 400 `unknown-recipient`, `fingerprint-mismatch`, `duplicate-recipient`,
 *   `owner-not-recipient`, `author-not-recipient` (unless the author reads through a team).
 */
export async function resolveRecipients(
  s: Services,
  recipients: Recipient[],
  ownerId: string,
  authorId: string,
  authorReadsThroughTeam = false,
): Promise<string[]> {
  const ids = recipients.map((r) => r.userId);
  if (new Set(ids).size !== ids.length) {
    throw new AppError({
      status: 400,
      code: 'duplicate-recipient',
      message: 'A recipient is named twice.',
    });
  }
  if (!ids.includes(ownerId))
    throw new AppError({
      status: 400,
      code: 'owner-not-recipient',
      message: 'The record must be encrypted to its owner.',
    });
  // A member writing for her team reads it through the team key: after she leaves, she does not.
  if (!ids.includes(authorId) && !authorReadsThroughTeam)
    throw new AppError({
      status: 400,
      code: 'author-not-recipient',
      message: 'The record must be encrypted to its author.',
    });
  // One primary-key read each, or none once kept: FerretDB v1 would scan the collection for `$in`.
  const users = await Promise.all(ids.map((id) => s.userKeys.of(id)));
  const byId = new Map(users.flatMap((u) => (u ? [[u._id, u] as const] : [])));
  return recipients.map((r) => {
    const user = byId.get(r.userId);
    if (!user)
      throw new AppError({
        status: 400,
        code: 'unknown-recipient',
        message: 'A recipient does not exist.',
        details: { userId: r.userId },
      });
    if (user.fingerprint !== r.fingerprint) {
      throw new AppError({
        status: 400,
        code: 'fingerprint-mismatch',
        message: "A recipient's fingerprint is not the one of their key.",
        details: { userId: r.userId },
      });
    }
    return user.publicKey;
  });
}

export async function attachmentsOf(s: Services, recordId: string): Promise<AttachmentDoc[]> {
  const list = await s.caches.attachments.get(recordId, async () => ({
    recordId,
    attachments: await listAttachments(s.models, recordId),
  }));
  return list?.attachments ?? [];
}

/** The records' attachment lists from the read cache; the misses from one batched read (listAttachmentsOfMany). */
async function attachmentsOfMany(
  s: Services,
  recordIds: readonly string[],
): Promise<AttachmentDoc[][]> {
  let batch: Promise<Map<string, AttachmentDoc[]>> | undefined;
  const load = async (recordId: string) => ({
    recordId,
    attachments: (await (batch ??= listAttachmentsOfMany(s.models, recordIds))).get(recordId) ?? [],
  });
  const lists = await Promise.all(
    recordIds.map((recordId) => s.caches.attachments.get(recordId, () => load(recordId))),
  );
  return lists.map((list) => list?.attachments ?? []);
}

const recordExists = () =>
  new AppError({
    status: 409,
    code: 'record-exists',
    message: 'A record with this id exists or existed.',
  });

/**
 * The stored record when `body` is a repeat of the create that stored it (a retry after an
 * answer that was lost or a 503 given after the write): same author, owner, recipients and
 * version 1 message. Undefined when no record has this id.
 * @throws AppError 409 `record-exists` when the id holds another record, or this one and the
 *   sender may no longer read it.
 */
async function repeatedCreate(
  s: Services,
  authorId: string,
  body: CreateRecordRequest,
): Promise<RecordDto | undefined> {
  const existing = await s.models.records.findById(body.recordId).lean();
  if (!existing) return undefined;
  // Until its first change (rev 1) the record holds version 1 as created, also while the
  // create that stores it has not written version 1 yet (a retry racing it).
  const first =
    existing.rev === 1
      ? existing
      : await s.models.versions
          .findById(`${body.recordId}:1`, { message: 1, recipients: 1 })
          .lean();
  const same =
    existing.creatorId === authorId &&
    existing.ownerId === body.ownerId &&
    first?.message === body.message &&
    JSON.stringify(first.recipients.map((r) => [r.userId, r.fingerprint])) ===
      JSON.stringify(body.recipients.map((r) => [r.userId, r.fingerprint]));
  if (!same) throw recordExists();
  // The first send may have failed (a 503) after storing the record, before its version 1 or
  // the trail's first event: this one completes it.
  if (existing.rev === 1) {
    try {
      // Not group-committed: this retry may be completing a create whose version 1 is in a
      // stalled round, and must not wait behind that round.
      await s.models.versions.create(firstVersionOf(existing));
    } catch (error) {
      if (!isDuplicateKey(error)) throw error;
    }
    // The owner may have deleted the record since it was read here: her delete removes the
    // versions it found, not one written after them. Taken back, so a delete leaves no copy.
    if (!(await s.models.records.exists({ _id: existing._id }))) {
      await s.models.versions.deleteOne({ _id: firstVersionOf(existing)._id });
      throw recordExists();
    }
  }
  if ((await trailOwnerOf(s, existing._id)) === undefined) {
    await appendAudit(s, {
      recordId: existing._id,
      ownerId: existing.ownerId,
      actorId: authorId,
      action: 'create',
    });
  }
  // The answer is the record as it is now: only for someone who may read it now (an author
  // revoked since, or a member who left the record's team, is told no more than a stranger);
  // completing the create above showed him nothing.
  if (!(await roleOf(s, existing, authorId))) throw recordExists();
  // Changed since (a share, an edit, a revoke): what it answers is a read of the current state.
  if (existing.rev !== 1) {
    await appendAudit(s, {
      recordId: existing._id,
      ownerId: existing.ownerId,
      actorId: authorId,
      action: 'read',
    });
  }
  return toRecordDto(existing, await attachmentsOf(s, existing._id));
}

/**
 * Stores a new record after checking, without decrypting, that the message is encrypted
 * (integrity-protected) to exactly the declared recipients' stored keys (DESIGN §5).
 * Idempotent: the same create again answers the stored record (see repeatedCreate).
 *
 * @throws AppError 400 (message check and recipient codes, `owner-not-patient`), 403 `no-consent`
 *   (a doctor the patient has not consented to, DESIGN §13), 409 `record-exists`
 *   (another record under this id, also a deleted one, whose trail stays its owner's; or this
 *   one, sent again by someone who may no longer read it).
 */
export async function createRecord(
  s: Services,
  authorId: string,
  body: CreateRecordRequest,
): Promise<RecordDto> {
  const repeated = await repeatedCreate(s, authorId, body);
  if (repeated) return repeated;
  // A doctor writing for a patient: his registered key, which her consent must name.
  let writerFingerprint: string | null = null;
  if (body.ownerId !== authorId) {
    const [owner, author] = await Promise.all([
      s.models.users.findById(body.ownerId, { role: 1 }).lean(),
      s.models.users.findById(authorId, { role: 1, fingerprint: 1 }).lean(),
    ]);
    if (!owner)
      throw new AppError({
        status: 400,
        code: 'unknown-recipient',
        message: 'The owner does not exist.',
      });
    if (owner.role !== 'patient' || author?.role !== 'doctor') {
      throw new AppError({
        status: 400,
        code: 'owner-not-patient',
        message: 'Only a doctor may write a record for someone else, and only for a patient.',
      });
    }
    writerFingerprint = author.fingerprint;
  }
  const teams = await resolveTeams(s, { teams: body.teams, authorId, granted: null });
  // Her consent names this doctor, or a team he writes through as a current member (DESIGN §13).
  if (writerFingerprint !== null)
    await requireConsent(
      s,
      body.ownerId,
      { id: authorId, fingerprint: writerFingerprint },
      teams.teams.map((t) => t.teamId),
    );
  const keys = await resolveRecipients(
    s,
    body.recipients,
    body.ownerId,
    authorId,
    teams.authorIsMember,
  );
  await checkMessage(body.message, [...keys, ...teams.keys], MAX_RECORD_MESSAGE_CHARS);
  // A deleted record's id keeps its audit trail; whoever took the id over would become the
  // "owner" of that trail (read it, extend it) and the real owner would lose it.
  // A trail without a record: deleted, or stored meanwhile by the same create racing itself.
  if ((await trailOwnerOf(s, body.recordId)) !== undefined) return racedCreate(s, authorId, body);
  try {
    return toRecordDto(await storeNewRecord(s, { ...body, authorId, teams: teams.teams }), []);
  } catch (error) {
    if (!isDuplicateKey(error)) throw error;
    return racedCreate(s, authorId, body);
  }
}

/**
 * The answer to a create that found its id taken after its first look: the same create
 * racing itself (a retry while the first was still running) gets the stored record.
 * @throws AppError 409 `record-exists` for anything else.
 */
async function racedCreate(
  s: Services,
  authorId: string,
  body: CreateRecordRequest,
): Promise<RecordDto> {
  const raced = await repeatedCreate(s, authorId, body);
  if (raced) return raced;
  throw recordExists();
}

/** A new record as storeNewRecords takes it (checked already). */
export interface NewRecord {
  recordId: string;
  ownerId: string;
  authorId: string;
  recipients: readonly Recipient[];
  teams?: readonly RecordTeamDoc[];
  message: string;
}

/**
 * The storage of a new record, checks done: listing feed entries, the record, version 1, the
 * trail's `create` event.
 * @throws a duplicate-key error when the id is taken (isDuplicateKey).
 */
export async function storeNewRecord(s: Services, input: NewRecord): Promise<RecordDoc> {
  const [record] = await storeNewRecords(s, [input]);
  if (!record) throw new Error('storeNewRecords stored nothing');
  return record;
}

/**
 * storeNewRecord for many records, a few inserts for all of them, shared with the creates
 * stored at the same time (group commit, records/model.ts recordInserts; the scale bench
 * seeds with it). On an error, what was stored stays (a record holds its version 1 until its first
 * change; the same create sent again completes it); feed entries of records that were not
 * stored are skipped as stale (feed.ts).
 * @throws a duplicate-key error when an id is taken (isDuplicateKey).
 */
export async function storeNewRecords(
  s: Services,
  inputs: readonly NewRecord[],
): Promise<RecordDoc[]> {
  const now = new Date();
  // Feed entries first: those of a failed create are skipped as stale (feed.ts).
  const feedSeqs = await Promise.all(
    inputs.map((input) =>
      s.listing.add(
        input.recordId,
        input.recipients.map((r) => r.userId),
      ),
    ),
  );
  const teamFeedSeqs = await Promise.all(
    inputs.map((input) =>
      s.listing.add(
        input.recordId,
        (input.teams ?? []).map((t) => teamFeedId(t.teamId)),
      ),
    ),
  );
  const records: RecordDoc[] = inputs.map((input, i) => {
    const recipients = input.recipients.map((r) => ({
      userId: r.userId,
      fingerprint: r.fingerprint,
    }));
    const teams =
      input.teams && input.teams.length > 0
        ? { teams: [...input.teams], teamFeedSeqs: teamFeedSeqs[i] ?? [] }
        : {};
    return {
      ...teams,
      _id: input.recordId,
      ownerId: input.ownerId,
      authorId: input.authorId,
      creatorId: input.authorId,
      recipients,
      readerIds: recipients.map((r) => r.userId),
      feedSeqs: feedSeqs[i] ?? [],
      version: 1,
      rev: 1,
      createdAt: now,
      updatedAt: now,
      message: input.message,
    };
  });
  // Nothing stored is taken back on an error: a retry of the same create may have found the
  // record and answered 201 with it meanwhile (repeatedCreate), and completes what is missing.
  await s.recordInserts.records.insert(records);
  await s.recordInserts.versions.insert(records.map(firstVersionOf));
  await recordsChanged(
    s,
    records.map((r) => ({ recordId: r._id, readers: r.readerIds })),
  );
  await Promise.all(
    records.map((r) =>
      appendAudit(s, {
        recordId: r._id,
        ownerId: r.ownerId,
        actorId: r.authorId,
        action: 'create',
      }),
    ),
  );
  return records;
}

/** Version 1 of a new record: what the record holds until its first change. */
const firstVersionOf = (r: RecordDoc): RecordVersionDoc => ({
  _id: `${r._id}:1`,
  recordId: r._id,
  version: 1,
  authorId: r.authorId,
  recipients: r.recipients,
  ...(r.teams ? { teams: r.teams } : {}),
  message: r.message,
  size: r.message.length,
  createdAt: r.createdAt,
});

const encodeCursor = (seq: number) => Buffer.from(String(seq)).toString('base64url');
function decodeCursor(cursor: string): number {
  const seq = Number(Buffer.from(cursor, 'base64url').toString('utf8'));
  if (Number.isSafeInteger(seq) && seq > 1) return seq;
  throw new AppError({
    status: 400,
    code: 'invalid-cursor',
    message: 'The page cursor is not valid.',
  });
}

/** Feed windows one list request reads at most; the rest of a page of stale entries is the next page's. */
const MAX_WINDOWS = 4;

/**
 * Records I own, wrote or that are shared with me, most recently changed for me first, read
 * from my listing feed by `_id` (feed.ts): cost grows with the page, not with the database. A
 * page may hold fewer than `limit` records when the feed has stale entries; the list ends
 * where `nextCursor` is absent. Each listed record counts as read (its message is handed out),
 * once per LIST_READ_WINDOW_MS per reader (appendListReads).
 */
export function listRecords(
  s: Services,
  userId: string,
  query: PageQuery,
): Promise<JsonBytes<RecordListResponse>> {
  return listFeed(
    s,
    { feedId: userId, actorId: userId, isListed: (record, seq) => isListedAt(record, userId, seq) },
    query,
  );
}

type PageQuery = { limit: number; before?: string | undefined };

/**
 * Records shared with a care team, for a current member (by the team's statements): the team's
 * own listing feed, read like a person's. Anyone else learns nothing (404, as for a team that
 * does not exist). Each listed record counts as read by the member, not by the team.
 * @throws AppError 404 `team-not-found`, 400 `invalid-cursor`.
 */
export async function listTeamRecords(
  s: Services,
  userId: string,
  teamId: string,
  query: PageQuery,
): Promise<JsonBytes<RecordListResponse>> {
  if (!(await isTeamMember(s, teamId, userId)))
    throw new AppError({ status: 404, code: 'team-not-found', message: 'No such team.' });
  const isListed = (record: RecordDoc, seq: number) => {
    const i = (record.teams ?? []).findIndex((t) => t.teamId === teamId);
    return i >= 0 && record.teamFeedSeqs?.[i] === seq;
  };
  return listFeed(s, { feedId: teamFeedId(teamId), actorId: userId, isListed }, query);
}

/** One page of a listing feed (a person's or a team's), each record checked against the reader's role on it now. */
async function listFeed(
  s: Services,
  feed: { feedId: string; actorId: string; isListed: (record: RecordDoc, seq: number) => boolean },
  query: PageQuery,
): Promise<JsonBytes<RecordListResponse>> {
  const userId = feed.actorId;
  // Entries below `next` are still to be read; each window asks for as many as the page misses.
  let next = query.before ? decodeCursor(query.before) : (await s.listing.head(feed.feedId)) + 1;
  const listed: RecordDoc[] = [];
  for (let round = 0; round < MAX_WINDOWS && next > 1 && listed.length < query.limit; round++) {
    const size = query.limit - listed.length;
    const window = await s.listing.window(feed.feedId, next, size);
    // From the read cache; the window's misses from one `$in` query.
    let batch: Promise<Map<string, RecordDoc>> | undefined;
    const records = await Promise.all(
      window.map((e) =>
        s.caches.records.get(
          e.recordId,
          async () =>
            (
              await (batch ??= findByIds(
                s.models.records,
                window.map((w) => w.recordId),
              ))
            ).get(e.recordId) ?? null,
        ),
      ),
    );
    for (const [i, entry] of window.entries()) {
      const record = records[i];
      if (record && feed.isListed(record, entry.seq)) listed.push(record);
    }
    next = Math.max(1, next - size);
  }
  // Grant expiry (readers only): the read cache, its misses in one `_id $in`.
  const roles = await rolesOf(s, listed, userId);
  const visible = listed.filter((_, i) => roles[i] !== undefined);
  const lists = await attachmentsOfMany(
    s,
    visible.map((r) => r._id),
  );
  await appendListReads(
    s,
    visible.map((r) => ({
      recordId: r._id,
      ownerId: r.ownerId,
      actorId: userId,
      action: 'list' as const,
    })),
  );
  return JsonBytes.ofList(
    'records',
    visible.map((r, i) => recordAnswer(r, lists[i] ?? [])),
    next > 1 ? { nextCursor: encodeCursor(next) } : {},
  );
}

export async function getRecord(
  s: Services,
  record: RecordDoc,
  actorId: string,
): Promise<JsonBytes<RecordDto>> {
  await appendAudit(s, { recordId: record._id, ownerId: record.ownerId, actorId, action: 'read' });
  return recordAnswer(record, await attachmentsOf(s, record._id));
}

/** Serialized answers by record document; see recordAnswer. */
const recordAnswers = new WeakMap<
  RecordDoc,
  { attachments: AttachmentDoc[]; answer: JsonBytes<RecordDto> }
>();

/**
 * The record's answer, serialized once per record document and attachment list. With the
 * read cache on, both are shared objects that nothing changes (a change replaces them in the
 * cache), so the same pair means the same answer; a new one misses. JSON.stringify and the
 * copy of its result took ~8% of a cached record GET's CPU (server bench); a list page is
 * its records' answers put together (JsonBytes.ofList).
 */
function recordAnswer(record: RecordDoc, attachments: AttachmentDoc[]): JsonBytes<RecordDto> {
  const known = recordAnswers.get(record);
  if (known?.attachments === attachments) return known.answer;
  const answer = JsonBytes.of(toRecordDto(record, attachments));
  recordAnswers.set(record, { attachments, answer });
  return answer;
}

/**
 * Writes version `baseVersion + 1`. The version slot's unique id and the record update
 * filtered on `version: baseVersion` (under a rev claim) make a concurrent edit of the same
 * base — or a grant or revoke landing meanwhile — a 409, never a silent overwrite, and
 * history has no gaps (DESIGN §5). Grants of users the new version is not encrypted to end.
 *
 * A version that moves a team to its new key brings, per file it keeps, that key's packet
 * (keptFilePackets), written like a re-key's.
 *
 * @throws AppError 409 `version-conflict`, 400 message/recipient codes,
 *   `attachment-packets-mismatch`, 403 `member-changes-readers`.
 */
export async function updateRecord(
  s: Services,
  record: RecordDoc,
  actorId: string,
  body: UpdateRecordRequest,
  role?: RecordRole,
): Promise<RecordDto> {
  if (body.baseVersion !== record.version) throw versionConflict(record);
  if (role === 'member') requireSameReaders(record, body);
  const teams = await resolveTeams(s, {
    teams: body.teams,
    authorId: actorId,
    granted: record.teams ?? [],
  });
  const keys = await resolveRecipients(
    s,
    body.recipients,
    record.ownerId,
    actorId,
    teams.authorIsMember,
  );
  await checkMessage(body.message, [...keys, ...teams.keys], MAX_RECORD_MESSAGE_CHARS);
  const moves = await keptFilePackets(s, record._id, body.attachmentPackets, teams.moved);
  const recipients = body.recipients.map((r) => ({ userId: r.userId, fingerprint: r.fingerprint }));
  const dropped = record.readerIds.filter((id) => !recipients.some((r) => r.userId === id));
  const droppedTeams = (record.teams ?? []).filter(
    (t) => !teams.teams.some((k) => k.teamId === t.teamId),
  );
  // A team moved to its new key: its packets for the kept files in the order a re-key writes them
  // (docs/care-teams.md "The order of a re-key's writes"), else the re-key, which skips a record
  // whose teams are current, would leave those files unopenable with the key readers use.
  const updated = await storeNextVersion(s, record, {
    authorId: actorId,
    recipients,
    teams: teams.teams,
    message: body.message,
    beforeCommit: () => addAttachmentPackets(s, record._id, moves),
    // The grants of the readers and teams it dropped, under the claim: a re-share of one of them
    // waits for it (`withRevClaim`).
    afterCommit: async () => {
      await Promise.all([
        deleteByIds(
          s.models.grants,
          dropped.map((id) => grantId(record._id, id)),
        ),
        deleteByIds(
          s.models.teamGrants,
          droppedTeams.map((t) => teamGrantId(record._id, t.teamId)),
        ),
      ]);
    },
  });
  await recordChanged(s, record._id, [...record.readerIds, ...updated.readerIds]);
  await appendAudit(s, {
    recordId: record._id,
    ownerId: record.ownerId,
    actorId,
    action: 'update',
  });
  if (moves.length > 0) {
    await dropAttachmentPackets(s, record._id, moves);
    // Their sizes changed.
    await recordChanged(s, record._id, []);
  }
  return toRecordDto(updated, await attachmentsOf(s, record._id));
}

export const versionConflict = (record: RecordDoc) =>
  new AppError({
    status: 409,
    code: 'version-conflict',
    message: 'The record changed since that version; reload and merge.',
    details: { currentVersion: record.version },
  });

/**
 * Stores version `record.version + 1` (checks done): the version slot's unique id and the record
 * update filtered on its version (under a rev claim) make a concurrent write of the same base a
 * 409, never a silent overwrite, and history has no gaps (DESIGN §5). A re-key names its admin
 * (`rekeyedBy`); any other version clears it. `beforeCommit` runs under the rev claim just before
 * the record update (a re-key's new file packets: docs/care-teams.md "Re-keying"), `afterCommit`
 * under it once the update is stored (deleting the grants of the readers it dropped).
 * @throws AppError 409 `version-conflict`.
 */
export async function storeNextVersion(
  s: Services,
  record: RecordDoc,
  next: {
    authorId: string;
    rekeyedBy?: string;
    recipients: RecipientDocList;
    teams: RecordTeamDoc[];
    message: string;
    beforeCommit?: () => Promise<void>;
    afterCommit?: () => Promise<void>;
  },
): Promise<RecordDoc> {
  const conflict = () => versionConflict(record);
  const version = record.version + 1;
  const now = new Date();
  const { recipients, message } = next;
  const rekeyed = next.rekeyedBy ? { rekeyedBy: next.rekeyedBy } : {};
  const versionTeams = next.teams.length > 0 ? { teams: next.teams } : {};
  const versionDoc: RecordVersionDoc = {
    _id: `${record._id}:${version}`,
    recordId: record._id,
    version,
    authorId: next.authorId,
    ...rekeyed,
    recipients,
    ...versionTeams,
    message,
    size: message.length,
    createdAt: now,
  };
  try {
    await s.recordInserts.versions.insert([versionDoc]);
  } catch (error) {
    if (!isDuplicateKey(error)) throw error;
    if (!(await clearStraySlot(s, record._id, version))) throw conflict();
    try {
      await s.recordInserts.versions.insert([versionDoc]);
    } catch (retryError) {
      if (isDuplicateKey(retryError)) throw conflict();
      throw retryError;
    }
  }
  const readerIds = recipients.map((r) => r.userId);
  // The new version goes to the top of every reader's list (entries of a lost race are stale).
  const [feedSeqs, teamFeedSeqs] = await Promise.all([
    s.listing.add(record._id, readerIds),
    s.listing.add(
      record._id,
      next.teams.map((t) => teamFeedId(t.teamId)),
    ),
  ]);
  const fields = {
    message,
    recipients,
    readerIds,
    feedSeqs,
    teams: next.teams,
    teamFeedSeqs,
    authorId: next.authorId,
    updatedAt: now,
    version,
  };
  const result = await withRevClaim(s, record, async () => {
    await next.beforeCommit?.();
    const updated = await s.models.records.updateOne(
      { _id: record._id, version: record.version, rev: record.rev },
      {
        $set: { ...fields, ...rekeyed },
        ...(next.rekeyedBy ? {} : { $unset: { rekeyedBy: 1 } }),
        $inc: { rev: 1 },
      },
    );
    if (updated.matchedCount === 1) await next.afterCommit?.();
    return updated;
  });
  if (result?.matchedCount !== 1) {
    await s.models.versions.deleteOne({ _id: `${record._id}:${version}` });
    throw conflict();
  }
  const { rekeyedBy: _previous, ...rest } = record;
  return { ...rest, ...fields, ...rekeyed, rev: record.rev + 1 };
}

type RecipientDocList = { userId: string; fingerprint: string }[];

/**
 * A member writes through her team (DESIGN §13): who reads the record is its owner's or author's
 * choice (a share, a revoke), so her version goes to exactly its readers and teams as they are.
 * Else naming herself would make her a reader in her own right, who keeps reading after she
 * leaves the team, and leaving a team out would end its grant.
 * @throws AppError 403 `member-changes-readers`.
 */
function requireSameReaders(record: RecordDoc, body: UpdateRecordRequest): void {
  const same = (a: readonly string[], b: readonly string[]) =>
    a.length === b.length && a.every((x) => b.includes(x));
  const teams = (body.teams ?? []).map((t) => t.teamId);
  if (
    same(
      body.recipients.map((r) => r.userId),
      record.readerIds,
    ) &&
    same(
      teams,
      (record.teams ?? []).map((t) => t.teamId),
    )
  )
    return;
  throw new AppError({
    status: 403,
    code: 'member-changes-readers',
    message:
      'A team member writes to the record’s readers and teams as they are; only its owner or author changes who reads it.',
  });
}

/** A version slot whose writer died before updating the record is freed after this long. */
export const STRAY_SLOT_MS = 60_000;

/**
 * True when slot `version` was taken by a writer that never updated the record (a crash
 * between the two writes): the record is still at `version - 1` and the slot is older than
 * STRAY_SLOT_MS. The stray slot is removed so the next update can use it.
 */
async function clearStraySlot(s: Services, recordId: string, version: number): Promise<boolean> {
  const [current, slot] = await Promise.all([
    s.models.records.findById(recordId, { version: 1 }).lean(),
    s.models.versions.findById(`${recordId}:${version}`, { createdAt: 1 }).lean(),
  ]);
  if (!current || !slot || current.version !== version - 1) return false;
  if (Date.now() - slot.createdAt.getTime() < STRAY_SLOT_MS) return false;
  const removed = await s.models.versions.deleteOne({ _id: slot._id, createdAt: slot.createdAt });
  return removed.deletedCount === 1;
}

/** The record's highest stored version slot (0: none), by `_id` lookups. */
async function lastVersionOf(s: Services, recordId: string): Promise<number> {
  const stored = async (n: number) =>
    (await s.models.versions.exists({ _id: chainId(recordId, n) })) ? true : undefined;
  return (await chainEnd(stored, { seq: 0, value: true })).seq;
}

export async function recordHistory(
  s: Services,
  record: RecordDoc,
): Promise<RecordHistoryResponse> {
  // Versions 1..version have `_id`s `<recordId>:<n>` (a stray slot above `version` is not history).
  const found = await findByIds(s.models.versions, chainIds(record._id, 1, record.version));
  const versions = chainIds(record._id, 1, record.version).flatMap((id) => found.get(id) ?? []);
  return {
    versions: versions.map((v) => ({
      version: v.version,
      authorId: v.authorId,
      ...(v.rekeyedBy ? { rekeyedBy: v.rekeyedBy } : {}),
      recipients: v.recipients.map((x) => ({ userId: x.userId, fingerprint: x.fingerprint })),
      teams: teamsOf(v),
      createdAt: iso(v.createdAt),
      size: v.size,
    })),
  };
}

/** @throws AppError 404 `version-not-found`. */
export async function getRecordVersion(
  s: Services,
  record: RecordDoc,
  actorId: string,
  version: number,
) {
  const v: RecordVersionDoc | null = await s.models.versions
    .findById(`${record._id}:${version}`)
    .lean();
  if (!v)
    throw new AppError({ status: 404, code: 'version-not-found', message: 'No such version.' });
  await appendAudit(s, { recordId: record._id, ownerId: record.ownerId, actorId, action: 'read' });
  return {
    version: v.version,
    authorId: v.authorId,
    ...(v.rekeyedBy ? { rekeyedBy: v.rekeyedBy } : {}),
    recipients: v.recipients.map((x) => ({ userId: x.userId, fingerprint: x.fingerprint })),
    teams: teamsOf(v),
    createdAt: iso(v.createdAt),
    size: v.size,
    message: v.message,
  };
}

/**
 * Permanent delete (GDPR): the record goes first, so access ends at once; then grants and
 * attachments, then the versions. The audit trail keeps that it happened. Without transactions
 * a failure can stop this half-way, so the owner may delete a record that is already gone:
 * that removes whatever is left and records the delete once. Everything by `_id` (DESIGN §9):
 * a filter on `recordId` loaded every version, grant and chunk of every record on FerretDB v1.
 * Grants are found from the readers and teams the record names, or, once it is gone, its last
 * version; so the versions go last.
 */
export async function deleteRecord(
  s: Services,
  input: { recordId: string; record: RecordDoc | null; actorId: string },
): Promise<void> {
  const { recordId, record } = input;
  if (record) await s.models.records.deleteOne({ _id: recordId });
  // A stray slot above the record's version (clearStraySlot) is one more.
  const lastVersion = record ? record.version + 1 : await lastVersionOf(s, recordId);
  const named = record ?? (await s.models.versions.findById(chainId(recordId, lastVersion)).lean());
  const readers = record?.readerIds ?? named?.recipients.map((r) => r.userId) ?? [];
  await Promise.all([
    deleteByIds(
      s.models.grants,
      readers.map((id) => grantId(recordId, id)),
    ),
    deleteByIds(
      s.models.teamGrants,
      (named?.teams ?? []).map((t) => teamGrantId(recordId, t.teamId)),
    ),
    deleteRecordAttachments(s.models, recordId),
  ]);
  await deleteByIds(s.models.versions, chainIds(recordId, 1, lastVersion));
  await recordChanged(s, recordId, record?.readerIds ?? []);
  if (record || !(await trailEndsDeleted(s, recordId))) {
    // The owner is the actor when the record is gone (only the owner gets this far).
    await appendAudit(s, {
      recordId,
      ownerId: record?.ownerId ?? input.actorId,
      actorId: input.actorId,
      action: 'delete',
    });
  }
}
