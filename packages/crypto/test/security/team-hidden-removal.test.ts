// Attack: the server hides a removal from a care team (DESIGN §13), so that a patient keeps
// sharing with a team key the person who left still holds, or shows an admin's two conflicting
// versions of the log to different people. A client keeps the team head it last verified in
// its account state (DESIGN §12) and refuses a log that ends before it or disagrees with it.
import { replayTeamLog } from '../../src';
import { entry, person, TEAM_ID, TeamLog, type Person } from '../team-helpers';

let admin: Person;
let leaver: Person;
let stayer: Person;
beforeAll(async () => {
  [admin, leaver, stayer] = await Promise.all([
    person('Admin'),
    person('Leaver'),
    person('Stayer'),
  ]);
});

describe('attack: a removal hidden by the server', () => {
  it('when the server serves the log without the removal a client already saw, then rollback', async () => {
    const log = await TeamLog.create(admin);
    await log.add(entry(leaver), admin);
    await log.add(entry(stayer), admin);
    const beforeRemoval = [...log.statements];
    await log.remove(leaver.id, admin);
    const pinned = { genesis: log.state.genesis, seq: log.state.seq, head: log.state.head };
    const served = await replayTeamLog({
      teamId: TEAM_ID,
      statements: beforeRemoval,
      publicKeys: [admin.key.publicKey],
      pinned,
    });
    expect(served).toEqual({ status: 'rollback', pinnedSeq: 3, servedSeq: 2 });
  });

  it('when the server serves another statement at the pinned position (an equivocating admin), then fork', async () => {
    const log = await TeamLog.create(admin);
    await log.add(entry(leaver), admin);
    const branch = log.fork();
    await log.remove(leaver.id, admin);
    await branch.add(entry(stayer), admin);
    const pinned = { genesis: log.state.genesis, seq: log.state.seq, head: log.state.head };
    expect(
      await replayTeamLog({
        teamId: TEAM_ID,
        statements: branch.statements,
        publicKeys: [admin.key.publicKey],
        pinned,
      }),
    ).toEqual({ status: 'fork', seq: 2 });
  });

  it('when the log only grows past the pinned head, then it verifies', async () => {
    const log = await TeamLog.create(admin);
    await log.add(entry(leaver), admin);
    const pinned = { genesis: log.state.genesis, seq: log.state.seq, head: log.state.head };
    await log.remove(leaver.id, admin);
    const result = await replayTeamLog({
      teamId: TEAM_ID,
      statements: log.statements,
      publicKeys: [admin.key.publicKey],
      pinned,
    });
    expect(result.status).toBe('verified');
  });
});
