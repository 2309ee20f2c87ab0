import type {
  AccessEntry,
  AccessListResponse,
  BatchGrantResult,
  GrantBatchRequest,
  GrantBatchResponse,
  GrantRequest,
  TeamAccessEntry,
  TeamGrantRequest,
} from '@medseal/contract';
import { MAX_RECORD_READERS, MAX_RECORD_TEAMS } from '@medseal/contract';
import { describeError, toAppError } from '../../lib/error-handler';
import { AppError } from '../../lib/errors';
import type { AuthContext } from '../../lib/routing';
import {
  checkGrant,
  checkPacketFor,
  checkPublicKey,
  checkTeamGrant,
  splicePacket,
} from '../../lib/pgp';
import { now, type Services } from '../../services';
import type { AuditInput } from '../audit/log';
import { appendAudit } from '../audit/use-cases';
import { listAttachments, listAttachmentsOfMany } from '../records/attachment-list';
import { addAttachmentPacket } from '../records/attachments';
import {
  authorizeRecord,
  recordChanged,
  recordNotFound,
  recordsChanged,
  requireRecord,
} from '../records/access';
import { grantId, teamGrantId, type GrantDoc } from './model';
import type { AttachmentDoc, RecordDoc } from '../records/model';
import type { UserDoc } from '../users/model';
import { withRevClaim } from '../records/rev-claim';
import { feedSeqsOf, teamFeedId, teamFeedSeqsOf, UNLISTED } from '../records/feed';
import { teamHead } from '../teams/use-cases';
import { findByIds } from '../../lib/store';
import { ClaimGroup } from '../../lib/claims';

const GRANT_CLOCK_SKEW_MS = 10 * 60 * 1000;

const badGrant = (message: string) => new AppError({ status: 400, code: 'bad-grant', message });

/** The grant's time must be now (within the skew) and its expiry, if any, later. @throws AppError 400 `bad-grant`. */
function grantTimes(
  grant: { at: string; expiresAt?: string | undefined },
  nowMs: number,
): {
  at: Date;
  expiresAt?: Date;
} {
  const at = new Date(grant.at);
  if (Number.isNaN(at.getTime()) || Math.abs(at.getTime() - nowMs) > GRANT_CLOCK_SKEW_MS)
    throw badGrant('The grant time is not now.');
  const expiresAt = grant.expiresAt === undefined ? undefined : new Date(grant.expiresAt);
  if (expiresAt && (Number.isNaN(expiresAt.getTime()) || expiresAt.getTime() <= nowMs))
    throw badGrant('The grant has already expired.');
  return expiresAt ? { at, expiresAt } : { at };
}

type KeyIdsOf = (publicKey: string) => Promise<readonly string[]>;

const keyIdsOf: KeyIdsOf = async (publicKey) => (await checkPublicKey(publicKey)).encryptionKeyIds;

/** keyIdsOf, each key checked once (for one batch: the grantee's key stays the same). */
function keyIdsOnce(): KeyIdsOf {
  const checked = new Map<string, Promise<readonly string[]>>();
  return (publicKey) => {
    const found = checked.get(publicKey) ?? keyIdsOf(publicKey);
    checked.set(publicKey, found);
    return found;
  };
}

/** 409 `already-recipient`: the person or team already reads the record. */
const alreadyRecipient = (message: string) =>
  new AppError({ status: 409, code: 'already-recipient', message });

/**
 * 400 `too-many-readers` / `too-many-teams`: a version may name no more (the contract's limits
 * for creates and updates); a share past them would leave a record no one could write again
 * with everyone on it.
 */
const noRoomFor = (what: 'readers' | 'teams', most: number) =>
  new AppError({
    status: 400,
    code: `too-many-${what}`,
    message: `A record can have at most ${most} ${what}.`,
  });

/**
 * Checks a share's file packets before anything is stored (a refused share leaves no grant):
 * each names a file of the record and is for `publicKey`. Returns the files listed (asked only
 * when packets name files, as most shares name none), for the splice to reuse.
 * @throws AppError 400 `bad-grant`, `recipient-mismatch`.
 */
async function checkFilePackets(
  s: Services,
  record: RecordDoc,
  attachmentPackets: Record<string, string> | undefined,
  publicKey: string,
  listed?: AttachmentDoc[],
): Promise<AttachmentDoc[] | undefined> {
  const packets = Object.entries(attachmentPackets ?? {});
  if (packets.length === 0) return listed;
  const files = listed ?? (await listAttachments(s.models, record._id));
  for (const [id, packet] of packets) {
    if (!files.some((a) => a._id === id))
      throw badGrant('A packet names an attachment the record does not have.');
    await checkPacketFor(packet, publicKey);
  }
  return files;
}

/**
 * Writes the new reader's signed grant, adds her PKESK (for `publicKey`) to every attachment's
 * packets and splices it into the stored message, with the record fields the share sets, all
 * under the record's rev claim (so a revoke that took her off just before has deleted its grant
 * by then, `withRevClaim`); the message update is filtered on `rev`, so a concurrent change makes
 * us re-read and try again instead of losing a packet. The file packets were checked before
 * (`checkFilePackets`).
 * @throws AppError 400 `too-many-readers`, `too-many-teams`; 404 `record-not-found`; 409
 *   `version-conflict`, `already-recipient`.
 */
async function spliceIn(
  s: Services,
  record: RecordDoc,
  input: {
    pkesk: string;
    attachmentPackets: Record<string, string> | undefined;
    publicKey: string;
    /**
     * Stores the signed grant (first, so a record naming her always has it), and takes it back
     * when the record turns out deleted: a permanent delete removes the grants of the readers
     * it read, so it misses one written just before its record delete.
     */
    grant: { write: () => Promise<unknown>; remove: () => Promise<unknown> };
    fields: (based: RecordDoc) => Partial<RecordDoc>;
    /**
     * Why this reader cannot be added to `based`, else undefined: already a reader (a share of
     * the same one that landed while we re-read) or no room left. Checked again on each re-read.
     */
    refusal: (based: RecordDoc) => AppError | undefined;
    /** The record's attachments listed after `record` was read (a batch lists all its records' at once). */
    listed?: AttachmentDoc[];
    /** The batch's claims (a batch takes them together). */
    claims?: ClaimGroup;
    /** The key's encryption key ids (a batch checks its grantee's key once: ~6 ms each). */
    keyIdsOf?: KeyIdsOf;
  },
): Promise<void> {
  const keyIds = await (input.keyIdsOf ?? keyIdsOf)(input.publicKey);
  let current: RecordDoc | null = record;
  for (let attempt = 0; ; attempt++) {
    if (!current) {
      // Gone since the first read: no record names anyone, so no grant of it is ever right.
      if (attempt > 0) await input.grant.remove();
      throw recordNotFound();
    }
    // Two shares of one reader at once (a double click, a retry after a 503): the one re-read
    // after the other landed must not name the reader twice.
    const refused = input.refusal(current);
    if (refused) throw refused;
    const message = await splicePacket(current.message, input.pkesk, keyIds);
    const based: RecordDoc = current;
    // A list made after `based` was read holds every file a version up to `based` names; after a
    // conflict the record is read again, and so are its files.
    const files = attempt === 0 && input.listed ? input.listed : undefined;
    const result = await withRevClaim(
      s,
      based,
      async () => {
        await input.grant.write();
        // Attachments first, so by the time the new reader can read the record they can open its files.
        for (const a of files ?? (await listAttachments(s.models, record._id))) {
          await addAttachmentPacket(s, a, input.attachmentPackets?.[a._id] ?? input.pkesk, keyIds);
        }
        return s.models.records.updateOne(
          { _id: based._id, rev: based.rev },
          { $set: { message, ...input.fields(based) }, $inc: { rev: 1 } },
        );
      },
      input.claims,
    );
    if (result?.matchedCount === 1) return;
    if (attempt >= 4)
      throw new AppError({
        status: 409,
        code: 'version-conflict',
        message: 'The record keeps changing; try again.',
      });
    current = await s.models.records.findById(record._id).lean();
  }
}

/**
 * Share (DESIGN §6): verify the grant is signed by the sharer and names this record, this
 * grantee and the grantee's real fingerprint; check the PKESK is for the grantee's key;
 * add it to every attachment's packets and splice it into the stored message (no
 * re-encryption). All of it runs under the record's rev claim and the message update is
 * filtered on `rev`, so a concurrent change makes us re-read and try again instead of losing
 * a packet.
 *
 * @throws AppError 400 `bad-grant`, `bad-signature`, `recipient-mismatch`, `too-many-readers`, 404 `user-not-found`, 409 `already-recipient`.
 */
export async function grantAccess(
  s: Services,
  record: RecordDoc,
  sharerId: string,
  body: GrantRequest,
): Promise<AccessEntry> {
  const prepared = await prepareGrant(s, record, await sharerOf(s, sharerId), body, (id) =>
    s.models.users.findById(id).lean<UserDoc>().exec(),
  );
  try {
    await prepared.splice();
  } catch (error) {
    if (!(await spliceStuck(s, prepared.grant))) throw error;
  }
  await s.auditLog.append([prepared.audit]);
  await recordChanged(s, record._id, [...record.readerIds, body.granteeUserId]);
  return prepared.entry;
}

/** How many grants of a batch are checked and spliced at once: a whole web batch, so their claims go in few group commits. */
const BATCH_CONCURRENCY = 25;

/**
 * Share several records at once (issue 14): each grant is authorized (`share` on its record,
 * as the single route's access rule), checked and stored by the very steps of `grantAccess`,
 * independently of the others. A refused grant gets the code the single route would answer
 * and, like a refused single share, stores nothing but a stale listing entry (skipped). The
 * open tabs of every reader are told once, after the batch.
 *
 * The database is the limit (one writer on FerretDB v1), so what can be is done once for the
 * batch: the records and their attachment lists are read together up front (`_id $in`), the
 * rev claims taken and given back by group commit, and the audit events of the spliced grants
 * written together at the end. Each grant's document is written under its record's claim, just
 * before the record names its grantee (`spliceIn`).
 */
export async function grantAccessBatch(
  s: Services,
  auth: AuthContext,
  body: GrantBatchRequest,
): Promise<GrantBatchResponse> {
  const sharer = await sharerOf(s, auth.userId);
  // Usually one grantee for the whole batch: read once.
  const grantees = new Map<string, Promise<UserDoc | null>>();
  const granteeOf = (id: string) => {
    const found = grantees.get(id) ?? s.models.users.findById(id).lean<UserDoc>().exec();
    grantees.set(id, found);
    return found;
  };
  const recordIds = body.grants.map((g) => g.recordId);
  const records = await findByIds(s.models.records, recordIds);
  // Listed after the records were read (spliceIn).
  const files = await listAttachmentsOfMany(s.models, [...records.keys()]);
  const results: BatchGrantResult[] = [];
  const refuse = (i: number, error: unknown) => {
    const known = toAppError(error);
    if (known.status >= 500)
      s.logger.error({ err: describeError(error), code: known.code }, 'a grant of a batch failed');
    const { recordId, granteeUserId } = body.grants[i] ?? { recordId: '', granteeUserId: '' };
    results[i] = {
      recordId,
      granteeUserId,
      status: 'refused',
      httpStatus: known.status,
      error: { code: known.code, message: known.message },
    };
  };
  const claims = new ClaimGroup(s);
  const checkedKeys = keyIdsOnce();
  const checked: { i: number; readers: string[]; prepared: PreparedGrant }[] = [];
  await inParallel(
    body.grants.map((grant, i) => ({ grant, i })),
    async ({ grant: { recordId, ...grant }, i }) => {
      try {
        const read = records.get(recordId) ?? null;
        const record = requireRecord(
          await authorizeRecord(s, recordId, auth, 'share', () => Promise.resolve(read)),
        );
        const listed = read && read.rev === record.rev ? files.get(recordId) : undefined;
        const prepared = await prepareGrant(s, record, sharer, grant, granteeOf, {
          listed,
          claims,
          keyIdsOf: checkedKeys,
        });
        checked.push({ i, readers: [...record.readerIds, grant.granteeUserId], prepared });
      } catch (error) {
        refuse(i, error);
      }
    },
  );
  const spliced: typeof checked = [];
  await inParallel(checked, async (g) => {
    try {
      await g.prepared.splice();
    } catch (error) {
      if (!(await spliceStuck(s, g.prepared.grant))) return refuse(g.i, error);
    }
    spliced.push(g);
    results[g.i] = {
      recordId: g.prepared.grant.recordId,
      granteeUserId: g.prepared.grant.granteeId,
      status: 'shared',
      entry: g.prepared.entry,
    };
  });
  if (spliced.length > 0) {
    await s.auditLog.append(spliced.map((g) => g.prepared.audit));
    await recordsChanged(
      s,
      spliced.map((g) => ({ recordId: g.prepared.grant.recordId, readers: g.readers })),
    );
  }
  return { results };
}

/**
 * After a splice failed: whether it was stored all the same (the record names the grantee: an
 * error after the update, e.g. giving back its claim, or the same share sent again while the
 * first was still running). Then it is a share. Else a grant it wrote stays (unless the record
 * is gone: spliceIn takes it back then), unread while the record does not name its grantee
 * (access and the readers list go by readerIds). It is never deleted here, outside the record's
 * claim: a concurrent share of the same record with the same person writes the same grant
 * `_id`, and deleting it could leave a record naming a reader without her signed grant.
 */
async function spliceStuck(s: Services, grant: GrantDoc): Promise<boolean> {
  try {
    return (
      (
        await s.models.records.findById(grant.recordId, { readerIds: 1 }).lean()
      )?.readerIds.includes(grant.granteeId) ?? false
    );
  } catch {
    return false;
  }
}

/** Runs `each` over `items`, BATCH_CONCURRENCY at a time. */
async function inParallel<T>(items: readonly T[], each: (item: T) => Promise<void>): Promise<void> {
  const queue = [...items];
  const worker = async () => {
    for (let next = queue.shift(); next !== undefined; next = queue.shift()) await each(next);
  };
  await Promise.all(Array.from({ length: Math.min(BATCH_CONCURRENCY, queue.length) }, worker));
}

/** @throws AppError 401 `unauthenticated` when the session's user is gone. */
async function sharerOf(s: Services, sharerId: string): Promise<UserDoc> {
  const sharer = await s.models.users.findById(sharerId).lean<UserDoc>();
  if (!sharer)
    throw new AppError({ status: 401, code: 'unauthenticated', message: 'Log in first.' });
  return sharer;
}

/**
 * A checked share: its grant document and audit event to write, and `splice`, which lists the
 * record for the grantee and splices her packet in (the step that makes her a reader).
 */
interface PreparedGrant {
  grant: GrantDoc;
  audit: AuditInput;
  entry: AccessEntry;
  splice: () => Promise<void>;
}

/** The checks of one share (`grantAccess`); nothing is stored until the caller writes the grant and splices. */
async function prepareGrant(
  s: Services,
  record: RecordDoc,
  sharer: UserDoc,
  body: GrantRequest,
  granteeOf: (id: string) => Promise<UserDoc | null>,
  batch: { listed?: AttachmentDoc[] | undefined; claims?: ClaimGroup; keyIdsOf?: KeyIdsOf } = {},
): Promise<PreparedGrant> {
  const sharerId = sharer._id;
  const grantee = await granteeOf(body.granteeUserId);
  if (!grantee)
    throw new AppError({ status: 404, code: 'user-not-found', message: 'No such user.' });
  const refusal = (based: RecordDoc) =>
    based.readerIds.includes(grantee._id)
      ? alreadyRecipient('This user can already read the record.')
      : based.readerIds.length >= MAX_RECORD_READERS
        ? noRoomFor('readers', MAX_RECORD_READERS)
        : undefined;
  const refused = refusal(record);
  if (refused) throw refused;
  const grant = await checkGrant({
    signedGrant: body.signedGrant,
    signerPublicKey: sharer.publicKey,
  });
  if (
    grant.recordId !== record._id ||
    grant.granteeUserId !== grantee._id ||
    grant.grantedBy !== sharerId
  ) {
    throw badGrant('The grant names another record, grantee or sharer.');
  }
  if (grant.granteeFingerprint !== grantee.fingerprint) {
    throw new AppError({
      status: 400,
      code: 'fingerprint-mismatch',
      message: "The grant names a fingerprint that is not the grantee's key.",
    });
  }
  const { at, expiresAt } = grantTimes(grant, now(s));
  await checkPacketFor(body.pkesk, grantee.publicKey);
  const listed = await checkFilePackets(
    s,
    record,
    body.attachmentPackets,
    grantee.publicKey,
    batch.listed,
  );
  const entry = { userId: grantee._id, fingerprint: grantee.fingerprint };
  const stored: GrantDoc = {
    _id: grantId(record._id, grantee._id),
    recordId: record._id,
    granteeId: grantee._id,
    granteeFingerprint: grantee.fingerprint,
    grantedBy: sharerId,
    signedGrant: body.signedGrant,
    at,
    ...(expiresAt ? { expiresAt } : {}),
  };
  const splice = async () => {
    // The grantee's listing entry first (one of a failed share is skipped as stale).
    const [feedSeq = UNLISTED] = await s.listing.add(record._id, [grantee._id]);
    await spliceIn(s, record, {
      pkesk: body.pkesk,
      attachmentPackets: body.attachmentPackets,
      publicKey: grantee.publicKey,
      grant: {
        write: () => s.models.grants.replaceOne({ _id: stored._id }, stored, { upsert: true }),
        remove: () => s.models.grants.deleteOne({ _id: stored._id }),
      },
      fields: (based) => ({
        recipients: [...based.recipients, entry],
        readerIds: [...based.readerIds, grantee._id],
        feedSeqs: [...feedSeqsOf(based), feedSeq],
      }),
      refusal,
      ...(listed ? { listed } : {}),
      ...(batch.claims ? { claims: batch.claims } : {}),
      ...(batch.keyIdsOf ? { keyIdsOf: batch.keyIdsOf } : {}),
    });
  };
  return {
    grant: stored,
    audit: { recordId: record._id, ownerId: record.ownerId, actorId: sharerId, action: 'share' },
    entry: {
      userId: grantee._id,
      name: grantee.name,
      role: grantee.role,
      fingerprint: grantee.fingerprint,
      via: 'grant',
      signedGrant: body.signedGrant,
      grantedBy: sharerId,
      grantedAt: at.toISOString(),
    },
    splice,
  };
}

/**
 * Share with a care team (DESIGN §13): the team grant must be signed by the sharer and name this
 * record, this team and its creation (genesis); the PKESK must be for the team's current key
 * (a team key the statements have retired is refused); it is spliced in like a person's (no
 * re-encryption: the cost depends neither on the record's size nor on the team's). From then
 * on every current member reads the record, and only while she is one.
 *
 * @throws AppError 404 `team-not-found`; 400 `bad-grant`, `bad-signature`, `team-key-not-current`,
 *   `too-many-teams`; 409 `already-recipient`.
 */
export async function grantTeamAccess(
  s: Services,
  record: RecordDoc,
  sharerId: string,
  body: TeamGrantRequest,
): Promise<TeamAccessEntry> {
  const [team, sharer] = await Promise.all([
    teamHead(s, body.teamId),
    s.models.users.findById(sharerId, { publicKey: 1 }).lean(),
  ]);
  if (!team) throw new AppError({ status: 404, code: 'team-not-found', message: 'No such team.' });
  if (!sharer)
    throw new AppError({ status: 401, code: 'unauthenticated', message: 'Log in first.' });
  const refusal = (based: RecordDoc) =>
    (based.teams ?? []).some((t) => t.teamId === body.teamId)
      ? alreadyRecipient('This team can already read the record.')
      : (based.teams ?? []).length >= MAX_RECORD_TEAMS
        ? noRoomFor('teams', MAX_RECORD_TEAMS)
        : undefined;
  const refused = refusal(record);
  if (refused) throw refused;
  const grant = await checkTeamGrant({
    signedGrant: body.signedGrant,
    signerPublicKey: sharer.publicKey,
  });
  if (
    grant.recordId !== record._id ||
    grant.teamId !== body.teamId ||
    grant.grantedBy !== sharerId
  ) {
    throw badGrant('The grant names another record, team or sharer.');
  }
  if (grant.genesis !== team.genesis)
    throw badGrant('The grant names another team with this id (its creation differs).');
  const { at, expiresAt } = grantTimes(grant, now(s));
  await checkPacketFor(body.pkesk, team.key.publicKey).catch((error: unknown) => {
    if (error instanceof AppError && error.code === 'recipient-mismatch') {
      throw new AppError({
        status: 400,
        code: 'team-key-not-current',
        message: "The packet is not for the team's current key.",
        cause: error,
      });
    }
    throw error;
  });
  const listed = await checkFilePackets(s, record, body.attachmentPackets, team.key.publicKey);
  const entry = { teamId: body.teamId, fingerprint: team.key.fingerprint, gen: team.key.gen };
  const [feedSeq = UNLISTED] = await s.listing.add(record._id, [teamFeedId(body.teamId)]);
  const storedId = teamGrantId(record._id, body.teamId);
  await spliceIn(s, record, {
    pkesk: body.pkesk,
    attachmentPackets: body.attachmentPackets,
    publicKey: team.key.publicKey,
    grant: {
      write: () =>
        s.models.teamGrants.replaceOne(
          { _id: storedId },
          {
            recordId: record._id,
            teamId: body.teamId,
            grantedBy: sharerId,
            signedGrant: body.signedGrant,
            at,
            ...(expiresAt ? { expiresAt } : {}),
          },
          { upsert: true },
        ),
      remove: () => s.models.teamGrants.deleteOne({ _id: storedId }),
    },
    fields: (based) => ({
      teams: [...(based.teams ?? []), entry],
      teamFeedSeqs: [...teamFeedSeqsOf(based), feedSeq],
    }),
    refusal,
    ...(listed ? { listed } : {}),
  });
  await recordChanged(s, record._id, record.readerIds);
  await appendAudit(s, {
    recordId: record._id,
    ownerId: record.ownerId,
    actorId: sharerId,
    action: 'share',
  });
  return {
    ...entry,
    name: team.name,
    practiceName: team.practiceName,
    signedGrant: body.signedGrant,
    grantedBy: sharerId,
    grantedAt: at.toISOString(),
  };
}

/**
 * Stop sharing with a team: its members stop getting the record at once; the client then writes
 * a new version under a fresh session key without the team (DESIGN §6).
 * @throws AppError 404 `not-a-recipient`.
 */
export async function revokeTeamAccess(
  s: Services,
  record: RecordDoc,
  actorId: string,
  teamId: string,
): Promise<void> {
  const at = (based: RecordDoc) => (based.teams ?? []).findIndex((t) => t.teamId === teamId);
  await takeOff(s, record, actorId, {
    named: (current) => at(current) >= 0,
    notNamed: 'This team cannot read the record.',
    fields: (based) => ({
      teams: (based.teams ?? []).filter((_, j) => j !== at(based)),
      teamFeedSeqs: teamFeedSeqsOf(based).filter((_, j) => j !== at(based)),
    }),
    deleteGrant: () => s.models.teamGrants.deleteOne({ _id: teamGrantId(record._id, teamId) }),
  });
}

/**
 * Revoke: the user is taken off the record at once (the server stops serving it); the
 * client then writes a new version under a fresh session key (DESIGN §6).
 *
 * @throws AppError 400 `cannot-revoke-owner`, 404 `not-a-recipient`.
 */
export async function revokeAccess(
  s: Services,
  record: RecordDoc,
  actorId: string,
  userId: string,
): Promise<void> {
  if (userId === record.ownerId)
    throw new AppError({
      status: 400,
      code: 'cannot-revoke-owner',
      message: "The owner's access cannot be revoked.",
    });
  if (userId === actorId && record.ownerId !== actorId) {
    throw new AppError({
      status: 400,
      code: 'cannot-revoke-self',
      message: 'Ask the owner to remove you.',
    });
  }
  await takeOff(s, record, actorId, {
    named: (current) => current.readerIds.includes(userId),
    notNamed: 'This user cannot read the record.',
    fields: (based) => ({
      recipients: based.recipients.filter((r) => r.userId !== userId),
      readerIds: based.readerIds.filter((id) => id !== userId),
      feedSeqs: feedSeqsOf(based).filter((_, i) => based.readerIds[i] !== userId),
    }),
    deleteGrant: () => s.models.grants.deleteOne({ _id: grantId(record._id, userId) }),
  });
}

/**
 * Takes a reader (a person or a team) off the record under its rev claim, re-read and tried
 * again on a concurrent change, and deletes her grant under the same claim once the record no
 * longer names her (a re-share waits for it: `withRevClaim`); then tells the open tabs and
 * records the revoke.
 * @throws AppError 404 `record-not-found`, `not-a-recipient`; 409 `version-conflict`.
 */
async function takeOff(
  s: Services,
  record: RecordDoc,
  actorId: string,
  reader: {
    named: (current: RecordDoc) => boolean;
    /** Why `not-a-recipient`, in words. */
    notNamed: string;
    fields: (based: RecordDoc) => Partial<RecordDoc>;
    deleteGrant: () => Promise<unknown>;
  },
): Promise<void> {
  let current: RecordDoc | null = record;
  for (let attempt = 0; ; attempt++) {
    if (!current) throw recordNotFound();
    if (!reader.named(current))
      throw new AppError({ status: 404, code: 'not-a-recipient', message: reader.notNamed });
    const based: RecordDoc = current;
    const result = await withRevClaim(s, based, async () => {
      const updated = await s.models.records.updateOne(
        { _id: based._id, rev: based.rev },
        { $set: reader.fields(based), $inc: { rev: 1 } },
      );
      if (updated.matchedCount === 1) await reader.deleteGrant();
      return updated;
    });
    if (result?.matchedCount === 1) break;
    if (attempt >= 4)
      throw new AppError({
        status: 409,
        code: 'version-conflict',
        message: 'The record keeps changing; try again.',
      });
    current = await s.models.records.findById(record._id).lean();
  }
  await recordChanged(s, record._id, record.readerIds);
  await appendAudit(s, {
    recordId: record._id,
    ownerId: record.ownerId,
    actorId,
    action: 'revoke',
  });
}

export async function listAccess(s: Services, record: RecordDoc): Promise<AccessListResponse> {
  const [users, grants] = await Promise.all([
    Promise.all(
      record.readerIds.map((id) =>
        s.models.users.findById(id, { name: 1, role: 1, fingerprint: 1 }).lean(),
      ),
    ).then((us) => us.flatMap((u) => (u ? [u] : []))),
    findByIds(
      s.models.grants,
      record.readerIds.map((id) => grantId(record._id, id)),
    ),
  ]);
  const byId = new Map(users.map((u) => [u._id, u]));
  const entries: AccessEntry[] = [];
  for (const r of record.recipients) {
    const u = byId.get(r.userId);
    if (!u) continue;
    const grant = grants.get(grantId(record._id, r.userId));
    const via =
      r.userId === record.ownerId
        ? 'owner'
        : r.userId === record.creatorId
          ? 'author'
          : grant
            ? 'grant'
            : 'recipient';
    entries.push({
      userId: u._id,
      name: u.name,
      role: u.role,
      fingerprint: r.fingerprint,
      via,
      ...(grant
        ? {
            signedGrant: grant.signedGrant,
            grantedBy: grant.grantedBy,
            grantedAt: grant.at.toISOString(),
          }
        : {}),
    });
  }
  return { entries, teams: await teamEntries(s, record) };
}

/** The record's teams with their grants (a team the author wrote the record for has none). */
async function teamEntries(s: Services, record: RecordDoc): Promise<TeamAccessEntry[]> {
  const teams = record.teams ?? [];
  const [heads, grants] = await Promise.all([
    Promise.all(teams.map((t) => teamHead(s, t.teamId))),
    Promise.all(
      teams.map((t) => s.models.teamGrants.findById(teamGrantId(record._id, t.teamId)).lean()),
    ),
  ]);
  return teams.map((t, i) => {
    const head = heads[i];
    const grant = grants[i];
    return {
      teamId: t.teamId,
      name: head?.name ?? '',
      practiceName: head?.practiceName ?? '',
      fingerprint: t.fingerprint,
      gen: t.gen,
      ...(grant
        ? {
            signedGrant: grant.signedGrant,
            grantedBy: grant.grantedBy,
            grantedAt: grant.at.toISOString(),
          }
        : {}),
    };
  });
}
