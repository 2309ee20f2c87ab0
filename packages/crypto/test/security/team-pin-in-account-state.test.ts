// Attack: the server hides a removal from a care team, or serves another team under the same id,
// to a patient or member on another of her devices (DESIGN §12, §13; issue 13 "The server adds a
// member on its own or hides a removal → clients detect it"). The head of each team she verified
// travels in her signed account state, so every device replays what the server serves against it.
import {
  openAccountState,
  replayTeamLog,
  sealAccountState,
  type PinnedTeam,
  type TeamState,
} from '../../src';
import { stateOf } from '../account-state-helpers';
import { makeUser } from '../helpers';
import { entry, forgeStatement, person, TEAM_ID, TeamLog, type Person } from '../team-helpers';

let admin: Person;
let leaver: Person;
let intruder: Person;
beforeAll(async () => {
  [admin, leaver, intruder] = await Promise.all([
    person('Admin'),
    person('Leaver'),
    person('Intruder'),
  ]);
});

const pinOf = (s: TeamState): PinnedTeam => ({
  teamId: s.teamId,
  genesis: s.genesis,
  root: s.root.fingerprint,
  seq: s.seq,
  head: s.head,
});

/** The team pin as another device of the patient reads it back from her sealed account state. */
async function pinOnAnotherDevice(team: TeamState): Promise<PinnedTeam> {
  const patient = await makeUser('Patient');
  const { message } = await sealAccountState({
    state: { ...(await stateOf(patient)), teams: [pinOf(team)] },
    key: patient.privateKey,
  });
  const opened = await openAccountState({ message, userId: 'u-me', key: patient.privateKey });
  if (opened.status !== 'verified') throw new Error(`account state did not open: ${opened.status}`);
  const [pin] = opened.state.teams ?? [];
  if (!pin) throw new Error('no team pinned');
  return pin;
}

describe('attack: the server shows a care team other than the one pinned in the account state', () => {
  it('when the server hides a removal the patient verified on another device, then rollback', async () => {
    const log = await TeamLog.create(admin);
    await log.add(entry(leaver), admin);
    const beforeRemoval = [...log.statements];
    await log.remove(leaver.id, admin);
    const pinned = await pinOnAnotherDevice(log.state);
    expect(pinned).toEqual(pinOf(log.state));
    const served = await replayTeamLog({
      teamId: TEAM_ID,
      statements: beforeRemoval,
      publicKeys: [admin.key.publicKey],
      pinned,
    });
    expect(served).toEqual({ status: 'rollback', pinnedSeq: 2, servedSeq: 1 });
    // The whole log still verifies against the pin.
    expect(
      (
        await replayTeamLog({
          teamId: TEAM_ID,
          statements: log.statements,
          publicKeys: [admin.key.publicKey],
          pinned,
        })
      ).status,
    ).toBe('verified');
  });

  it('when the server serves a team of its own making under the pinned id (another founder who added the intruder), then fork', async () => {
    const real = await TeamLog.create(admin);
    const pinned = await pinOnAnotherDevice(real.state);
    const fake = await TeamLog.create(intruder);
    await fake.add(entry(leaver), intruder);
    const served = await replayTeamLog({
      teamId: TEAM_ID,
      statements: fake.statements,
      publicKeys: [intruder.key.publicKey],
      pinned,
    });
    expect(served).toEqual({ status: 'fork', seq: 0 });
  });

  it('when the server adds a member on its own (a statement no admin signed) after the pinned head, then the log is invalid from that statement', async () => {
    const log = await TeamLog.create(admin);
    const pinned = await pinOnAnotherDevice(log.state);
    const forged = await forgeStatement({
      state: log.state,
      change: { type: 'add', member: entry(intruder) },
      by: intruder,
      signer: intruder,
    });
    const served = await replayTeamLog({
      teamId: TEAM_ID,
      statements: [...log.statements, forged],
      publicKeys: [admin.key.publicKey, intruder.key.publicKey],
      pinned,
    });
    expect(served).toMatchObject({ status: 'invalid', seq: 1, code: 'not-team-admin' });
  });
});
