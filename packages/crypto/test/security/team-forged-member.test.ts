// Attack: the server adds a member to a care team on its own (DESIGN §13), so that a record
// shared with the team reaches someone no admin chose: a statement signed by someone who is
// not an admin, one that claims an admin but is signed by another key, or one signed by an
// admin who was removed. Every client replays the log and refuses it; the server's own check
// (applyTeamStatement) refuses it before storing anything.
import { applyTeamStatement, replayTeamLog } from '../../src';
import { entry, forgeStatement, person, TEAM_ID, TeamLog, type Person } from '../team-helpers';

let admin: Person;
let admin2: Person;
let member: Person;
let intruder: Person;
beforeAll(async () => {
  [admin, admin2, member, intruder] = await Promise.all([
    person('Admin'),
    person('Admin2'),
    person('Member'),
    person('Intruder'),
  ]);
});

async function team() {
  const log = await TeamLog.create(admin);
  await log.add(entry(admin2, 'staff', true), admin);
  await log.add(entry(member), admin);
  return log;
}

const keys = () => [admin, admin2, member, intruder].map((p) => p.key.publicKey as string);
const addIntruder = () => ({ type: 'add' as const, member: entry(intruder) });

/**
 * Appends a statement claiming `by`, signed with `signer`'s key, and expects every client's replay
 * and the server's check (given `by`'s real key) to refuse it with `code`.
 */
async function expectRefused(log: TeamLog, by: Person, signer: Person, code: string) {
  const forged = await forgeStatement({ state: log.state, change: addIntruder(), by, signer });
  const replayed = await replayTeamLog({
    teamId: TEAM_ID,
    statements: [...log.statements, forged],
    publicKeys: keys(),
  });
  expect(replayed).toMatchObject({ status: 'invalid', seq: log.state.seq + 1, code });
  await expect(
    applyTeamStatement({ state: log.state, signed: forged, signerPublicKey: by.key.publicKey }),
  ).rejects.toMatchObject({ code });
}

describe('attack: a member added without an admin', () => {
  it('when the statement is signed by a member who is not an admin, then not-team-admin everywhere', async () => {
    await expectRefused(await team(), member, member, 'not-team-admin');
  });

  it("when the statement claims an admin but is signed by the server's own key, then bad-signature", async () => {
    await expectRefused(await team(), admin, intruder, 'bad-signature');
  });

  it('when a removed admin signs an addition, then not-team-admin', async () => {
    const log = await team();
    await log.remove(admin2.id, admin);
    await expectRefused(log, admin2, admin2, 'not-team-admin');
  });

  it('when the founder is replaced by a key the server controls, then the creation no longer matches the pinned genesis', async () => {
    const log = await team();
    const pinned = { genesis: log.state.genesis, seq: log.state.seq, head: log.state.head };
    const fake = await TeamLog.create(intruder);
    await fake.add(entry(member), intruder);
    expect(
      await replayTeamLog({
        teamId: TEAM_ID,
        statements: fake.statements,
        publicKeys: keys(),
        pinned,
      }),
    ).toEqual({ status: 'fork', seq: 0 });
  });
});
