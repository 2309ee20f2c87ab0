import { STALE_CLAIM_MS, withClaim } from '../../lib/claims';
import { describeError } from '../../lib/error-handler';
import {
  encodeBinding,
  memberSubject,
  parseBinding,
  peekStatement,
  teamMemberBindingOf,
  teamStatementBindingOf,
  teamStatementHash,
  teamSubject,
  type TeamState,
  type TeamStatement,
} from '../../lib/pgp';
import type { Services } from '../../services';
import { settleTeam } from './log';
import { statementId } from './model';

// A team statement's leaves in the key-transparency log (docs/decisions.md "Teams in the log",
// "A statement left unlogged is logged later"). The request that stores a statement logs it; a
// statement whose request died before that is logged by the next repair (at start, before the
// team's next statement). One claim per statement, `kt-team:<teamId>:<seq>`, is held by whoever
// logs it, and the repairer looks again under the claim: no statement gets two leaves.

/**
 * A stored statement younger than this is still being logged by its own request; a repair
 * leaves it alone. Also how long a claim whose holder died blocks the repair.
 */
export const REPAIR_AFTER_MS = STALE_CLAIM_MS;

const claimId = (teamId: string, seq: number) => `kt-team:${teamId}:${seq}`;

interface Leaf {
  data: string;
  subject: string;
}

/**
 * The leaves of `statement` of a team whose latest verified state is `state`: the leaf naming the
 * member it adds or changes (if any) first, then the team's own leaf, so a team leaf in the log
 * means every leaf of its statement is there.
 */
async function leavesOf(state: TeamState, statement: TeamStatement, at: number): Promise<Leaf[]> {
  const statementHash = await teamStatementHash(statement);
  const { seq } = statement;
  // The team as it stood after this statement: its seq, its hash, the key in force then.
  const then: TeamState = {
    ...state,
    seq,
    head: statementHash,
    keys: state.keys.filter((k) => k.fromSeq <= seq),
  };
  const member = teamMemberBindingOf({ state, statement, statementHash, at });
  return [
    ...(member ? [{ data: encodeBinding(member), subject: memberSubject(member.userId) }] : []),
    { data: encodeBinding(teamStatementBindingOf(then, at)), subject: teamSubject(state.teamId) },
  ];
}

async function append(s: Services, leaves: readonly Leaf[]): Promise<void> {
  for (const leaf of leaves) await s.transparency.append(leaf.data, leaf.subject);
}

/**
 * Stores statement `seq` through `store` and logs its leaves, under the statement's claim (taken
 * before the insert, so a repair never sees the statement unclaimed while its request logs it).
 * Returns false, storing nothing, when another request holds the claim (the same seq is being
 * stored). Throws what `store` throws (its 409 when the seq is taken).
 */
export async function storeAndLog(
  s: Services,
  opts: { state: TeamState; statement: TeamStatement; store: () => Promise<void> },
): Promise<boolean> {
  const { teamId, seq } = opts.statement;
  const done = await withClaim(
    s,
    claimId(teamId, seq),
    async () => true,
    async () => {
      await opts.store();
      await append(s, await leavesOf(opts.state, opts.statement, Date.now()));
      return true;
    },
  );
  return done === true;
}

/** The seqs of `teamId`'s statements that `subject` lists a leaf for. */
async function loggedSeqs(s: Services, subject: string, teamId: string): Promise<Set<number>> {
  const leaves = await s.transparency.subjectLeaves(subject);
  const seqs = new Set<number>();
  for (const { data } of leaves) {
    const binding = parseBinding(data);
    if (binding.type !== 'user-key' && binding.teamId === teamId) seqs.add(binding.seq);
  }
  return seqs;
}

/** What one repair of a team did. */
export interface TeamLogRepair {
  /** Leaves appended. */
  appended: number;
  /** Unlogged statements left alone: too young (their request may still log them) or claimed. */
  pending: number;
}

/**
 * Logs every stored statement of the team whose leaves are missing from the log (a request that
 * died between the statement's insert and its leaves), oldest first. Idempotent; safe to run in
 * several processes at once and beside the requests that store statements: under the
 * statement's claim it waits for every leaf appended so far to be integrated and looks again, so
 * a statement already logged (by its request or another repair) gets no second leaf.
 * @param minAgeMs statements younger than this are left to their own request.
 */
export async function repairTeamLog(
  s: Services,
  teamId: string,
  minAgeMs = REPAIR_AFTER_MS,
): Promise<TeamLogRepair> {
  const result: TeamLogRepair = { appended: 0, pending: 0 };
  const team = await settleTeam(s, teamId);
  if (!team) return result;
  // A team leaf is appended last of its statement's leaves: its presence means all are there.
  const logged = await loggedSeqs(s, teamSubject(teamId), teamId);
  for (let seq = 0; seq <= team.state.seq; seq++) {
    if (logged.has(seq)) continue;
    const doc = await s.models.teamStatements.findById(statementId(teamId, seq)).lean();
    if (!doc || Date.now() - doc.createdAt.getTime() < minAgeMs) {
      result.pending++;
      continue;
    }
    const appended = await withClaim(
      s,
      claimId(teamId, seq),
      async () => true,
      async () => {
        await s.transparency.settle();
        const statement = await peekStatement(doc.signed);
        const leaves = await leavesOf(team.state, statement, Date.now());
        const missing: Leaf[] = [];
        for (const leaf of leaves) {
          if (!(await loggedSeqs(s, leaf.subject, teamId)).has(seq)) missing.push(leaf);
        }
        await append(s, missing);
        return missing.length;
      },
    );
    if (appended === undefined) result.pending++;
    else result.appended += appended;
  }
  if (result.appended > 0)
    s.logger.warn(
      { teamId, appended: result.appended },
      'kt: logged team statements left unlogged',
    );
  return result;
}

/**
 * The repair of every team, run at start: the statements a process that died left unlogged.
 * Teams are found by their creation statements (a team whose document was never projected too).
 */
export async function repairTeamLogs(
  s: Services,
  minAgeMs = REPAIR_AFTER_MS,
): Promise<TeamLogRepair> {
  const creations = await s.models.teamStatements.find({ seq: 0 }, { teamId: 1 }).lean();
  const total: TeamLogRepair = { appended: 0, pending: 0 };
  for (const { teamId } of creations) {
    const { appended, pending } = await repairTeamLog(s, teamId, minAgeMs);
    total.appended += appended;
    total.pending += pending;
  }
  return total;
}

/**
 * At start, in the background: repairs every team's log, and once more after REPAIR_AFTER_MS
 * when some statement was too young to repair (its request may have died with the last process).
 */
export function repairTeamLogsAtStart(s: Services): void {
  const run = async (again: boolean) => {
    const { appended, pending } = await repairTeamLogs(s);
    s.logger.info({ appended, pending }, 'kt: team statements checked against the log');
    if (again && pending > 0) setTimeout(() => void run(false), REPAIR_AFTER_MS).unref();
  };
  run(true).catch((error: unknown) =>
    s.logger.error({ err: describeError(error) }, 'kt: could not repair the team logs'),
  );
}
