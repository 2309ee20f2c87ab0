import type {
  AppendTeamStatementRequest,
  CreateTeamRequest,
  KeyEnvelope,
  KeyEnvelopeResponse,
  TeamDto,
  TeamListResponse,
  TeamStatementsResponse,
  TeamSummary,
} from '@medseal/contract';
import { idSchema, MAX_TEAM_KEY_ENVELOPE_CHARS } from '@medseal/contract';
import { isDuplicateKey } from '../../lib/db';
import { AppError } from '../../lib/errors';
import { describeError } from '../../lib/error-handler';
import {
  applyStatement,
  checkMessage,
  checkTeamKey,
  peekStatement,
  type TeamKeyRef,
  type TeamState,
  type TeamStatement,
} from '../../lib/pgp';
import type { Services } from '../../services';
import { findByIds } from '../../lib/store';
import { settleTeam } from './log';
import { nameKeyOf } from './lists';
import { envelopeId, statementId, type TeamDoc } from './model';
import { practiceAdministeredBy } from './practices';
import { repairTeamLog, storeAndLog } from './transparency';

/** How far a statement's own time may be from the server's clock. */
const STATEMENT_CLOCK_SKEW_MS = 10 * 60 * 1000;
const STATEMENTS_PAGE = 200;
const DIRECTORY_LIMIT = 20;

const byText = (a: string, b: string) => (a < b ? -1 : a > b ? 1 : 0);

const teamNotFound = () =>
  new AppError({ status: 404, code: 'team-not-found', message: 'No such team.' });
const envelopesMismatch = (message: string) =>
  new AppError({ status: 400, code: 'key-envelopes-mismatch', message });

async function rootOf(s: Services, state: TeamState) {
  const user = await s.models.users.findById(state.root.userId, { name: 1 }).lean();
  return { userId: state.root.userId, name: user?.name ?? '', fingerprint: state.root.fingerprint };
}

async function toTeamDto(s: Services, team: TeamDoc): Promise<TeamDto> {
  const { state } = team;
  const [users, root] = await Promise.all([
    Promise.all(
      state.members.map((m) => s.models.users.findById(m.userId, { name: 1, role: 1 }).lean()),
    ),
    rootOf(s, state),
  ]);
  return {
    id: team._id,
    practiceId: state.practiceId,
    name: state.name,
    practiceName: state.practiceName,
    genesis: state.genesis,
    head: { seq: state.seq, hash: state.head },
    root,
    members: state.members.flatMap((m, i) => {
      const user = users[i];
      return user
        ? [
            {
              userId: m.userId,
              name: user.name,
              accountRole: user.role,
              fingerprint: m.fingerprint,
              role: m.role,
              admin: m.admin,
              since: m.since,
            },
          ]
        : [];
    }),
    keys: team.keys.map((k) => ({
      gen: k.gen,
      fingerprint: k.fingerprint,
      publicKey: k.publicKey,
    })),
  };
}

async function toTeamSummary(s: Services, team: TeamDoc): Promise<TeamSummary> {
  const { state } = team;
  return {
    id: team._id,
    name: state.name,
    practiceId: state.practiceId,
    practiceName: state.practiceName,
    root: await rootOf(s, state),
  };
}

/** The team as its statements say now. @throws AppError 404 `team-not-found`. */
async function requireTeam(s: Services, teamId: string): Promise<TeamDoc> {
  const team = await settleTeam(s, teamId);
  if (!team) throw teamNotFound();
  return team;
}

/** A team is public to every logged-in user, like a doctor's key in the directory (docs/care-teams.md). */
export async function getTeam(s: Services, teamId: string): Promise<TeamDto> {
  return toTeamDto(s, await requireTeam(s, teamId));
}

/**
 * The teams `userId` is a current member of, by their statements: her list of teams joined
 * (lists.ts) says which to ask, and names teams she has left too.
 */
async function currentTeamsOf(s: Services, userId: string): Promise<TeamDoc[]> {
  const teams = await Promise.all(
    (await s.teamLists.joins.idsOf(userId)).map((id) => settleTeam(s, id)),
  );
  return teams.flatMap((t) => (t?.state.members.some((m) => m.userId === userId) ? [t] : []));
}

export async function listMyTeams(s: Services, userId: string): Promise<TeamListResponse> {
  const mine = await currentTeamsOf(s, userId);
  return { teams: await Promise.all(mine.map((t) => toTeamSummary(s, t))) };
}

export async function findTeams(s: Services, namePrefix: string): Promise<TeamListResponse> {
  const prefix = namePrefix.toLowerCase();
  const listed = await findByIds(s.models.teams, await s.teamLists.names.idsOf(nameKeyOf(prefix)));
  const teams = [...listed.values()]
    .filter((t) => t.nameLower.startsWith(prefix))
    .sort((a, b) => byText(a.nameLower, b.nameLower) || byText(a._id, b._id))
    .slice(0, DIRECTORY_LIMIT);
  return { teams: await Promise.all(teams.map((t) => toTeamSummary(s, t))) };
}

/** A page of statements from `from`, with the stored keys of their signers (clients check each fingerprint). */
export async function teamStatements(
  s: Services,
  teamId: string,
  from: number,
): Promise<TeamStatementsResponse> {
  const team = await requireTeam(s, teamId);
  const last = Math.min(team.state.seq, from + STATEMENTS_PAGE - 1);
  const seqs = Array.from({ length: Math.max(0, last - from + 1) }, (_, i) => from + i);
  const docs = await Promise.all(
    seqs.map((seq) => s.models.teamStatements.findById(statementId(teamId, seq)).lean()),
  );
  const statements = docs.flatMap((d) => (d ? [{ seq: d.seq, signed: d.signed, by: d.by }] : []));
  const signers = await Promise.all(
    [...new Set(statements.map((d) => d.by))].map((id) => s.userKeys.of(id)),
  );
  return {
    statements: statements.map(({ seq, signed }) => ({ seq, signed })),
    headSeq: team.state.seq,
    publicKeys: signers.flatMap((u) =>
      u ? [{ userId: u._id, fingerprint: u.fingerprint, publicKey: u.publicKey }] : [],
    ),
  };
}

/**
 * My envelope of generation `gen` of the team key. Only current members get one: a removed
 * member gets 404 from the moment the removal is stored.
 * @throws AppError 404 `team-not-found`, `key-envelope-not-found`.
 */
export async function getKeyEnvelope(
  s: Services,
  teamId: string,
  userId: string,
  gen: number,
): Promise<KeyEnvelopeResponse> {
  const team = await requireTeam(s, teamId);
  const key = team.state.keys.find((k) => k.gen === gen);
  const notFound = () =>
    new AppError({
      status: 404,
      code: 'key-envelope-not-found',
      message: 'You have no key envelope for this team key.',
    });
  if (!key || !team.state.members.some((m) => m.userId === userId)) throw notFound();
  const envelope = await s.models.teamKeyEnvelopes
    .findById(envelopeId(teamId, key.fingerprint, userId))
    .lean();
  if (!envelope) throw notFound();
  return { gen, fingerprint: key.fingerprint, message: envelope.message };
}

/** Checks who signs (the caller, with the key the server holds for them) and when. */
async function checkSigner(s: Services, claimed: TeamStatement, callerId: string): Promise<string> {
  if (claimed.by.userId !== callerId) {
    throw new AppError({
      status: 403,
      code: 'not-the-signer',
      message: 'Send only statements you signed yourself.',
    });
  }
  const signer = await s.userKeys.of(callerId);
  if (!signer)
    throw new AppError({ status: 401, code: 'unauthenticated', message: 'Log in first.' });
  if (signer.fingerprint !== claimed.by.fingerprint) {
    throw new AppError({
      status: 400,
      code: 'fingerprint-mismatch',
      message: 'The statement names a key that is not yours.',
    });
  }
  if (Math.abs(Date.parse(claimed.at) - Date.now()) > STATEMENT_CLOCK_SKEW_MS) {
    throw new AppError({
      status: 400,
      code: 'statement-time',
      message: 'The statement is not dated now.',
    });
  }
  return signer.publicKey;
}

/**
 * The envelopes must be exactly one per member in `memberIds` (each the team key encrypted to
 * exactly that member's stored key, whose fingerprint must be the one the statements attest).
 * Returns them ready to store.
 * @throws AppError 400 `key-envelopes-mismatch`, `fingerprint-mismatch`, message check codes.
 */
async function checkEnvelopes(
  s: Services,
  state: TeamState,
  memberIds: string[],
  envelopes: KeyEnvelope[],
  key: TeamKeyRef,
) {
  const given = envelopes.map((e) => e.memberId);
  if (
    given.length !== memberIds.length ||
    new Set(given).size !== given.length ||
    !memberIds.every((id) => given.includes(id))
  ) {
    throw envelopesMismatch(
      'Send exactly one key envelope for each member who gets this team key.',
    );
  }
  return Promise.all(
    envelopes.map(async (e) => {
      const user = await s.userKeys.of(e.memberId);
      const attested = state.members.find((m) => m.userId === e.memberId);
      if (!user || user.fingerprint !== attested?.fingerprint) {
        throw new AppError({
          status: 400,
          code: 'fingerprint-mismatch',
          message: "A member's attested key is not the key of their account.",
          details: { userId: e.memberId },
        });
      }
      await checkMessage(e.message, [user.publicKey], MAX_TEAM_KEY_ENVELOPE_CHARS);
      return {
        _id: envelopeId(state.teamId, key.fingerprint, e.memberId),
        teamId: state.teamId,
        fingerprint: key.fingerprint,
        memberId: e.memberId,
        message: e.message,
        createdAt: new Date(),
      };
    }),
  );
}

/**
 * Stores the envelopes, then the statement (the commit) and its leaves in the key-transparency
 * log, under the statement's claim (`storeAndLog`), then settles the team.
 * @throws 409 `conflict` code when the seq is taken.
 */
async function commit(
  s: Services,
  opts: {
    /** The team after the statement. */
    state: TeamState;
    statement: TeamStatement;
    signed: string;
    by: string;
    teamPublicKey?: string;
    envelopes: Awaited<ReturnType<typeof checkEnvelopes>>;
    conflict: () => AppError;
  },
): Promise<TeamDto> {
  const { teamId, seq } = opts.statement;
  // Envelopes first: by the time the statement says who holds the key, they can get it. An
  // envelope whose statement never lands is never served (the key fingerprint is in its _id).
  await Promise.all(
    opts.envelopes.map((e) =>
      s.models.teamKeyEnvelopes.replaceOne({ _id: e._id }, e, { upsert: true }),
    ),
  );
  const store = async () => {
    try {
      await s.models.teamStatements.create({
        _id: statementId(teamId, seq),
        teamId,
        seq,
        signed: opts.signed,
        by: opts.by,
        ...(opts.teamPublicKey ? { teamPublicKey: opts.teamPublicKey } : {}),
        createdAt: new Date(),
      });
    } catch (error) {
      if (isDuplicateKey(error)) throw opts.conflict();
      throw error;
    }
  };
  // Only the statement that won its seq is logged, so every leaf of a team is in its history.
  if (!(await storeAndLog(s, { state: opts.state, statement: opts.statement, store })))
    throw opts.conflict();
  return toTeamDto(s, await requireTeam(s, teamId));
}

/**
 * Creates a team in a practice the caller administers: the creation statement (the caller is
 * its founder and first admin), the team public key it names, and the founder's key envelope.
 * @throws AppError 404 `practice-not-found`; 409 `team-exists`; 400 `practice-mismatch` and the
 * statement, key and envelope codes.
 */
export async function createTeam(
  s: Services,
  practiceId: string,
  callerId: string,
  body: CreateTeamRequest,
): Promise<TeamDto> {
  const practice = await practiceAdministeredBy(s, practiceId, callerId);
  const claimed = await peekStatement(body.statement);
  if (!idSchema.safeParse(claimed.teamId).success) {
    throw new AppError({
      status: 400,
      code: 'team-statement-malformed',
      message: 'A team id is 128 random bits, base64url (22 characters).',
    });
  }
  const signerKey = await checkSigner(s, claimed, callerId);
  const { state, statement } = await applyStatement({
    state: null,
    signed: body.statement,
    signerPublicKey: signerKey,
    teamId: claimed.teamId,
  });
  if (
    statement.change.type !== 'create' ||
    state.practiceId !== practice._id ||
    state.practiceName !== practice.name
  ) {
    throw new AppError({
      status: 400,
      code: 'practice-mismatch',
      message: 'The statement names another practice.',
    });
  }
  const teamKey = state.keys[0];
  if (!teamKey)
    throw new AppError({
      status: 400,
      code: 'team-key-required',
      message: 'A team is created with its key.',
    });
  await checkTeamKey(body.teamPublicKey, teamKey);
  const envelopes = await checkEnvelopes(s, state, [callerId], body.keyEnvelopes, teamKey);
  return commit(s, {
    state,
    statement,
    signed: body.statement,
    by: callerId,
    teamPublicKey: body.teamPublicKey,
    envelopes,
    conflict: () =>
      new AppError({ status: 409, code: 'team-exists', message: 'A team with this id exists.' }),
  });
}

/**
 * The next statement of a team, signed by the caller as a current admin, checked with the same
 * rules every client replays with, plus what only the server can check: the members' attested
 * keys are their accounts' keys, the team key is the one named, and whoever must hold the key
 * after this statement gets an envelope (a joiner: the current key; after a removal or a
 * rotation: the new key, for every remaining member). Nothing is stored unless all of it holds.
 * @throws AppError 404 `team-not-found`, `user-not-found`; 403 `not-the-signer`, `not-team-admin`;
 * 409 `team-head-moved`; 400 the statement, key and envelope codes.
 */
export async function appendTeamStatement(
  s: Services,
  teamId: string,
  callerId: string,
  body: AppendTeamStatementRequest,
): Promise<TeamDto> {
  const team = await requireTeam(s, teamId);
  // A statement before this one that a dead request left unlogged is logged first (clients
  // refuse a team whose latest statement has no leaf). Best effort: the append goes on.
  await repairTeamLog(s, teamId).catch((error: unknown) =>
    s.logger.error({ err: describeError(error), teamId }, 'kt: could not repair the team log'),
  );
  const claimed = await peekStatement(body.statement);
  const headMoved = () =>
    new AppError({
      status: 409,
      code: 'team-head-moved',
      message: 'Another admin changed the team first; reload it and sign again.',
    });
  if (claimed.teamId === teamId && claimed.seq <= team.state.seq) throw headMoved();
  const signerKey = await checkSigner(s, claimed, callerId);
  const { state, statement } = await applyStatement({
    state: team.state,
    signed: body.statement,
    signerPublicKey: signerKey,
  });
  const change = statement.change;
  const current = state.keys[state.keys.length - 1];
  if (!current)
    throw new AppError({
      status: 400,
      code: 'team-key-required',
      message: 'A team always has a key.',
    });
  let envelopes: Awaited<ReturnType<typeof checkEnvelopes>> = [];
  let teamPublicKey: string | undefined;
  switch (change.type) {
    case 'add': {
      const member = await s.models.users.findById(change.member.userId, { _id: 1 }).lean();
      if (!member)
        throw new AppError({ status: 404, code: 'user-not-found', message: 'No such user.' });
      envelopes = await checkEnvelopes(
        s,
        state,
        [change.member.userId],
        body.keyEnvelopes ?? [],
        current,
      );
      break;
    }
    case 'remove':
    case 'rotate': {
      if (!body.teamPublicKey)
        throw new AppError({
          status: 400,
          code: 'team-key-required',
          message: 'A removal or rotation brings the new team public key.',
        });
      await checkTeamKey(body.teamPublicKey, current);
      teamPublicKey = body.teamPublicKey;
      envelopes = await checkEnvelopes(
        s,
        state,
        state.members.map((m) => m.userId),
        body.keyEnvelopes ?? [],
        current,
      );
      break;
    }
    default:
      if (body.teamPublicKey !== undefined || (body.keyEnvelopes ?? []).length > 0) {
        throw envelopesMismatch('This change hands out no team key.');
      }
  }
  return commit(s, {
    state,
    statement,
    signed: body.statement,
    by: callerId,
    ...(teamPublicKey ? { teamPublicKey } : {}),
    envelopes,
    conflict: headMoved,
  });
}

/** A share with a team is checked against its head, whatever the team's size (log.ts). */
export { teamHead } from './log';

/** A team a record can be encrypted to: its settled state and current key (generation, fingerprint, public key). */
export interface RecordTeam {
  state: TeamState;
  key: { gen: number; fingerprint: string; publicKey: string };
  /** The public keys of its earlier generations (a re-key takes their packets off the record's files). */
  retiredKeys: string[];
}

/**
 * The team as records need it (share, write, re-key), settled from its statements; null when
 * there is no such team or its current key is not stored (never acted on: fails closed).
 */
export async function teamForRecords(s: Services, teamId: string): Promise<RecordTeam | null> {
  const team = await settleTeam(s, teamId);
  const current = team?.state.keys[team.state.keys.length - 1];
  const key =
    current &&
    team?.keys.find((k) => k.gen === current.gen && k.fingerprint === current.fingerprint);
  return team && key
    ? {
        state: team.state,
        key,
        retiredKeys: team.keys.filter((k) => k.gen < key.gen).map((k) => k.publicKey),
      }
    : null;
}

/** Is `userId` a current member of `teamId`, by the team's statements (the fail-closed access question). */
export async function isTeamMember(s: Services, teamId: string, userId: string): Promise<boolean> {
  const team = await settleTeam(s, teamId);
  return team?.state.members.some((m) => m.userId === userId) ?? false;
}

/**
 * Everyone who shares a current team with `userId`, by the teams' statements (the directory's
 * "connected" people, issue 15 finding 1).
 */
export async function teamMatesOf(s: Services, userId: string): Promise<Set<string>> {
  const mates = new Set<string>();
  for (const t of await currentTeamsOf(s, userId))
    for (const m of t.state.members) if (m.userId !== userId) mates.add(m.userId);
  return mates;
}
