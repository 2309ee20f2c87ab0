import { endpoints, type Me, type PracticeDto, type TeamDto } from '@medseal/contract';
import type { Fingerprint, TeamKeyState, TeamRole, TeamState, UserId } from '@medseal/crypto';
import type { Call } from '../../api/http';
import type { CryptoClient, KeyRef } from '../../crypto/client';
import type { AccountStateBook } from '../../app/accountState';
import type { KeyBook, Person } from '../../app/keyBook';
import type { KeyTransparency } from '../../app/transparency';
import { newRecordId } from '../records/ids';
import { explainTeamProblem, type TeamProblem } from './teamProblems';

/**
 * Care teams from the browser's side (DESIGN §13, docs/care-teams.md): a team is what its
 * admin-signed statements say once replayed here; the server's view (names, member list) is
 * shown only beside what verified. Team keys are unwrapped in the worker and stay there.
 */

/** A team whose whole log verified in this browser. */
export interface VerifiedTeam {
  dto: TeamDto;
  state: TeamState;
}

/** The team's log did not verify: nothing of it is shown or acted on. */
export class TeamVerificationError extends Error {
  constructor(readonly result: TeamProblem) {
    super(explainTeamProblem(result));
    this.name = 'TeamVerificationError';
  }
}

/** What the team pages need (and records too: RecordDeps adds to it). */
export interface TeamDeps {
  call: Call;
  crypto: CryptoClient;
  me: Me;
  key: KeyRef;
  keyBook: KeyBook;
  /** Key-transparency head, proofs and gossip (DESIGN §14). */
  transparency: KeyTransparency;
  /** Pins and the highest version seen of each record, on every device (DESIGN §12). */
  accountState: AccountStateBook;
}

/**
 * Reads the team and its whole log, replays it here against the head my account state pinned
 * for it (DESIGN §12, §13), and proves it against the key-transparency log (every use of a team
 * goes through here: sharing with it, unlocking its key, checking a member's attestation). A
 * log that ends before the pin (a removal hidden) or differs from it (another history, another
 * founder) is refused. A longer log that verifies moves the pin on, saved before the team is
 * used, so every device of mine holds the server to it.
 * @throws TeamVerificationError; TeamNotProvenError.
 */
export async function loadTeam(
  deps: Pick<TeamDeps, 'call' | 'crypto' | 'transparency' | 'accountState'>,
  teamId: string,
): Promise<VerifiedTeam> {
  const dto = await deps.call(endpoints.getTeam, { params: { teamId } });
  const statements: string[] = [];
  const publicKeys = new Set<string>();
  for (;;) {
    const page = await deps.call(endpoints.teamStatements, {
      params: { teamId },
      query: { from: statements.length },
    });
    for (const s of page.statements) statements.push(s.signed);
    for (const k of page.publicKeys) publicKeys.add(k.publicKey);
    if (page.statements.length === 0 || statements.length > page.headSeq) break;
  }
  const pinned = deps.accountState.teamPin(teamId);
  const result = await deps.crypto.replayTeamLog({
    teamId,
    statements,
    publicKeys: [...publicKeys],
    ...(pinned ? { pinned } : {}),
  });
  if (result.status !== 'verified') throw new TeamVerificationError(result);
  const { state } = result;
  await deps.transparency.proveTeam({ state, statements });
  await deps.accountState.keepTeamPin({
    teamId,
    genesis: state.genesis,
    root: state.root.fingerprint,
    seq: state.seq,
    head: state.head,
  });
  return { dto, state };
}

export function currentKeyOf(state: TeamState): TeamKeyState {
  const key = state.keys[state.keys.length - 1];
  if (!key) throw new Error('A team always has a key.');
  return key;
}

/**
 * The public half of a team key generation, accepted only when it is exactly the key the
 * verified statements name (fingerprint and whole-key hash).
 */
export async function teamPublicKey(
  deps: Pick<TeamDeps, 'crypto'>,
  team: VerifiedTeam,
  key: TeamKeyState,
): Promise<string> {
  const served = team.dto.keys.find((k) => k.gen === key.gen);
  if (!served) throw new Error(`The server did not send generation ${key.gen} of the team key.`);
  await deps.crypto.checkTeamPublicKey({
    publicKey: served.publicKey,
    expected: { fingerprint: key.fingerprint, keyHash: key.keyHash },
  });
  return served.publicKey;
}

/**
 * My copy of one generation of the team key, unwrapped in the worker (a handle); only the key
 * the statements name for that generation is accepted. The caller forgets the handle.
 */
export async function unwrapMyTeamKey(
  deps: TeamDeps,
  team: VerifiedTeam,
  key: TeamKeyState,
): Promise<KeyRef> {
  const envelope = await deps.call(endpoints.getTeamKeyEnvelope, {
    params: { teamId: team.state.teamId, gen: key.gen },
  });
  return deps.crypto.unwrapTeamKey({
    message: envelope.message,
    keyHandle: deps.key.handle,
    context: { teamId: team.state.teamId, gen: key.gen, memberId: deps.me.id },
    expected: { fingerprint: key.fingerprint, keyHash: key.keyHash },
  });
}

export async function createPractice(call: Call, name: string): Promise<PracticeDto> {
  return call(endpoints.createPractice, { body: { name } });
}

/** A new team in a practice I run: its key made here, the creation signed by me, my envelope. */
export async function createTeam(
  deps: TeamDeps,
  practice: { id: string; name: string },
  name: string,
): Promise<TeamDto> {
  const teamId = newRecordId();
  const teamKey = await deps.crypto.generateTeamKey();
  try {
    const made = await deps.crypto.signTeamStatement({
      state: null,
      teamId,
      change: {
        type: 'create',
        practiceId: practice.id,
        practiceName: practice.name,
        name,
        founder: {
          userId: deps.me.id as UserId,
          fingerprint: deps.key.fingerprint,
          role: 'doctor',
          admin: true,
        },
        teamKey: teamKey.ref,
      },
      signerId: deps.me.id as UserId,
      keyHandle: deps.key.handle,
    });
    const envelope = await deps.crypto.wrapTeamKey({
      teamKeyHandle: teamKey.handle,
      context: { teamId, gen: 1, memberId: deps.me.id },
      memberPublicKey: deps.key.publicKey,
    });
    return await deps.call(endpoints.createTeam, {
      params: { practiceId: practice.id },
      body: {
        statement: made.signed,
        teamPublicKey: teamKey.publicKey,
        keyEnvelopes: [{ memberId: deps.me.id, message: envelope }],
      },
    });
  } finally {
    await deps.crypto.forget(teamKey.handle);
  }
}

/**
 * Join (DESIGN §13): one statement signed by me (an admin) and the current team key encrypted
 * to the newcomer's key. Nothing is re-encrypted: she reads every record shared with the team.
 */
export async function addMember(
  deps: TeamDeps,
  team: VerifiedTeam,
  person: Person,
  role: TeamRole,
): Promise<TeamDto> {
  if (team.state.members.some((m) => m.userId === person.id))
    throw new Error(`${person.name} is already a member.`);
  const current = currentKeyOf(team.state);
  const teamKey = await unwrapMyTeamKey(deps, team, current);
  try {
    const made = await deps.crypto.signTeamStatement({
      state: team.state,
      change: {
        type: 'add',
        member: {
          userId: person.id as UserId,
          fingerprint: person.fingerprint as Fingerprint,
          role,
          admin: false,
        },
      },
      signerId: deps.me.id as UserId,
      keyHandle: deps.key.handle,
    });
    const message = await deps.crypto.wrapTeamKey({
      teamKeyHandle: teamKey.handle,
      context: { teamId: team.state.teamId, gen: current.gen, memberId: person.id },
      memberPublicKey: person.publicKey,
    });
    return await deps.call(endpoints.appendTeamStatement, {
      params: { teamId: team.state.teamId },
      body: { statement: made.signed, keyEnvelopes: [{ memberId: person.id, message }] },
    });
  } finally {
    await deps.crypto.forget(teamKey.handle);
  }
}

/**
 * Leave (DESIGN §13): one statement that removes her and names the next team key, made here,
 * encrypted to every remaining member's attested key (a directory key that is not the attested
 * one is refused). Her access ends on the server at once; the records' current versions are
 * re-keyed afterwards (rekey.ts).
 */
export async function removeMember(
  deps: TeamDeps,
  team: VerifiedTeam,
  userId: string,
): Promise<TeamDto> {
  const remaining = team.state.members.filter((m) => m.userId !== userId);
  const people = await Promise.all(remaining.map((m) => deps.keyBook.get(m.userId)));
  for (const [i, p] of people.entries()) {
    if (p.fingerprint !== remaining[i]?.fingerprint)
      throw new Error(
        `The server gave a key for ${p.name} that is not the one the team attests. Nothing was changed.`,
      );
  }
  const next = await deps.crypto.generateTeamKey();
  try {
    const made = await deps.crypto.signTeamStatement({
      state: team.state,
      change: { type: 'remove', userId: userId as UserId, teamKey: next.ref },
      signerId: deps.me.id as UserId,
      keyHandle: deps.key.handle,
    });
    const gen = currentKeyOf(made.state).gen;
    const keyEnvelopes = await Promise.all(
      people.map(async (p) => ({
        memberId: p.id,
        message: await deps.crypto.wrapTeamKey({
          teamKeyHandle: next.handle,
          context: { teamId: team.state.teamId, gen, memberId: p.id },
          memberPublicKey: p.publicKey,
        }),
      })),
    );
    return await deps.call(endpoints.appendTeamStatement, {
      params: { teamId: team.state.teamId },
      body: { statement: made.signed, teamPublicKey: next.publicKey, keyEnvelopes },
    });
  } finally {
    await deps.crypto.forget(next.handle);
  }
}
