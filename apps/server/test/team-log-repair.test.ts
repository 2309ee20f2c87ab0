// A team statement stored by a request that died before its leaves were appended (issue 12/13):
// clients refuse such a team (`not-logged`) until a repair logs it, at start or before the
// team's next statement. Played on the real database: the statement is inserted as the request
// would have, and the append is skipped. No statement may ever get two leaves, whoever races.
import {
  checkTeamInLog,
  logPublicKeyOf,
  parseBinding,
  verifyTreeHead,
  type SignedTreeHead,
  type TeamChange,
  type UserId,
} from '@medseal/crypto';
import type { KtHistoryResponse } from '@medseal/contract';
import { createApp } from '../src/app';
import { createLogger } from '../src/lib/logger';
import { createServices, type Services } from '../src/services';
import {
  repairTeamLog,
  repairTeamLogs,
  REPAIR_AFTER_MS,
} from '../src/components/teams/transparency';
import { ApiClient } from './helpers/client';
import {
  createPracticeAs,
  createTeamAs,
  createTeamBody,
  memberEntry,
  statementBody,
  type TestTeam,
} from './helpers/teams';
import { registerUser, type TestUser } from './helpers/users';
import { startTestServer, type TestServer } from './support';

let server: TestServer;
let admin: TestUser;
let nurse: TestUser;
/** Two server processes' worth of services (each its own log instance and append queue). */
let processA: Services;
let processB: Services;
const anonymous = () => new ApiClient(server.baseUrl);

beforeAll(async () => {
  server = await startTestServer();
  admin = await registerUser(server.baseUrl, { name: 'Dr Admin', role: 'doctor' });
  nurse = await registerUser(server.baseUrl, { name: 'Nurse Joy', role: 'doctor' });
  processA = createServices(server.connection, createLogger('silent'), {
    ...server.settings,
    readCacheTtlMs: 0,
  });
  processB = createServices(server.connection, createLogger('silent'), {
    ...server.settings,
    readCacheTtlMs: 0,
  });
});
afterAll(() => server.close());

async function head(): Promise<SignedTreeHead> {
  const res = await anonymous().get<SignedTreeHead>('/kt/head');
  verifyTreeHead(res.body, logPublicKeyOf(server.settings.secrets.ktLogKey));
  return res.body;
}

/** What a patient's or member's client checks: the team's statements against its leaves. */
async function clientCheck(team: TestTeam) {
  const h = await head();
  const statements = await admin.api.get<{ statements: { signed: string }[] }>(
    `/teams/${team.id}/statements?from=0`,
  );
  const history = await anonymous().get<KtHistoryResponse>(
    `/kt/teams/${team.id}/history?size=${h.size}`,
  );
  return checkTeamInLog({
    head: h,
    state: team.state,
    statements: statements.body.statements.map((s) => s.signed),
    history: history.body.bindings,
    map: history.body.map,
  });
}

/** The seq of every leaf the log holds for the team, and of every membership leaf naming `user`. */
async function leafSeqs(teamId: string, user?: TestUser): Promise<number[]> {
  const h = await head();
  const res = user
    ? await user.api.get<KtHistoryResponse>(`/kt/memberships?size=${h.size}`)
    : await anonymous().get<KtHistoryResponse>(`/kt/teams/${teamId}/history?size=${h.size}`);
  return res.body.bindings.flatMap((b) => {
    const leaf = parseBinding(b.leaf.data);
    return leaf.type !== 'user-key' && leaf.teamId === teamId ? [leaf.seq] : [];
  });
}

/**
 * A statement stored as `commit` stores it, by a request that then died: no leaf, no claim.
 * `age`: how long ago (a repair leaves statements younger than REPAIR_AFTER_MS to their request).
 */
async function storeWithoutLogging(
  team: TestTeam,
  change: TeamChange,
  age = REPAIR_AFTER_MS + 1000,
) {
  const { made } = await statementBody(team, admin, change);
  await processA.models.teamStatements.create({
    _id: `${team.id}:${made.state.seq}`,
    teamId: team.id,
    seq: made.state.seq,
    signed: made.signed,
    by: admin.id,
    createdAt: new Date(Date.now() - age),
  });
  team.state = made.state;
}

const addNurse = (): TeamChange => ({ type: 'add', member: memberEntry(nurse, 'nurse') });

async function newTeam(name: string): Promise<TestTeam> {
  return createTeamAs(admin, await createPracticeAs(admin, name));
}

describe('a team statement left unlogged by a request that died', () => {
  it('when the statement is stored but not logged, then clients refuse the team until the repair logs it, once', async () => {
    const team = await newTeam('Crash practice');
    await storeWithoutLogging(team, addNurse());
    expect(await clientCheck(team)).toEqual({ status: 'not-logged' });

    expect(await repairTeamLog(processA, team.id)).toEqual({ appended: 2, pending: 0 });
    expect(await clientCheck(team)).toEqual({ status: 'ok' });
    expect(await leafSeqs(team.id)).toEqual([0, 1]);
    // The nurse's own history names the team that added her.
    expect(await leafSeqs(team.id, nurse)).toEqual([1]);

    // Idempotent: nothing more, in either process.
    expect(await repairTeamLog(processB, team.id)).toEqual({ appended: 0, pending: 0 });
    expect(await leafSeqs(team.id)).toEqual([0, 1]);
  });

  it('when the statement is younger than the repair delay, then the repair leaves it to its own request', async () => {
    const team = await newTeam('Young practice');
    await storeWithoutLogging(
      team,
      { type: 'update', userId: admin.id as UserId, role: 'nurse', admin: true },
      0,
    );
    expect(await repairTeamLog(processA, team.id)).toEqual({ appended: 0, pending: 1 });
    expect(await leafSeqs(team.id)).toEqual([0]);
    // Once old enough (here: a repair that waits for no age), it is logged.
    expect(await repairTeamLog(processA, team.id, 0)).toEqual({ appended: 2, pending: 0 });
    expect(await leafSeqs(team.id)).toEqual([0, 1]);
  });

  it('when an admin sends the next statement, then the unlogged one before it is logged first', async () => {
    const team = await newTeam('Next practice');
    await storeWithoutLogging(team, addNurse());
    const next = await statementBody(team, admin, {
      type: 'update',
      userId: nurse.id as UserId,
      role: 'doctor',
      admin: false,
    });
    expect((await admin.api.post(`/teams/${team.id}/statements`, next.body)).status).toBe(201);
    team.state = next.made.state;
    expect(await leafSeqs(team.id)).toEqual([0, 1, 2]);
    expect(await leafSeqs(team.id, nurse)).toEqual([1, 2]);
    expect(await clientCheck(team)).toEqual({ status: 'ok' });
  });

  it('when the server starts, then every team is repaired (a team whose document was never projected too)', async () => {
    const team = await newTeam('Start practice');
    await storeWithoutLogging(team, addNurse());
    // A creation stored by a request that died at once: no leaf, no team document yet.
    const practice = await createPracticeAs(admin, 'Unborn practice');
    const { body, team: unborn } = await createTeamBody(admin, practice);
    await processA.models.teamStatements.create({
      _id: `${unborn.id}:0`,
      teamId: unborn.id,
      seq: 0,
      signed: body.statement,
      by: admin.id,
      teamPublicKey: body.teamPublicKey,
      createdAt: new Date(Date.now() - REPAIR_AFTER_MS - 1000),
    });
    expect(await processA.models.teams.exists({ _id: unborn.id })).toBeNull();

    const result = await repairTeamLogs(processB);
    expect(result.appended).toBeGreaterThanOrEqual(4);
    expect(await leafSeqs(team.id)).toEqual([0, 1]);
    expect(await clientCheck(team)).toEqual({ status: 'ok' });
    expect(await leafSeqs(unborn.id)).toEqual([0]);
    expect(await clientCheck(unborn)).toEqual({ status: 'ok' });
  });

  it('when two processes repair the same statement at once, then it gets exactly one leaf of each kind', async () => {
    const team = await newTeam('Twin practice');
    await storeWithoutLogging(team, addNurse());
    const results = await Promise.all([
      repairTeamLog(processA, team.id),
      repairTeamLog(processB, team.id),
      repairTeamLog(processA, team.id),
    ]);
    expect(results.reduce((n, r) => n + r.appended, 0)).toBe(2);
    // Let a repair that lost the claim see the log now: still one of each.
    await repairTeamLog(processB, team.id);
    expect(await leafSeqs(team.id)).toEqual([0, 1]);
    expect(await leafSeqs(team.id, nurse)).toEqual([1]);
  });

  it('when repairs race the request that stores a statement, then the statement gets exactly one leaf of each kind', async () => {
    const team = await newTeam('Race practice');
    const built = await statementBody(team, admin, addNurse(), { recipients: [nurse] });
    // Repairs that act on any age (0), one after the other in two processes for as long as the
    // request runs: only the statement's claim keeps them off it.
    let running = true;
    const repairs = [processA, processB].map(async (s) => {
      let appended = 0;
      while (running) appended += (await repairTeamLog(s, team.id, 0)).appended;
      return appended;
    });
    const res = await admin.api.post(`/teams/${team.id}/statements`, built.body);
    running = false;
    expect(await Promise.all(repairs)).toEqual([0, 0]);
    expect(res.status).toBe(201);
    team.state = built.made.state;
    await repairTeamLog(processA, team.id, 0);
    expect(await leafSeqs(team.id)).toEqual([0, 1]);
    expect(await leafSeqs(team.id, nurse)).toEqual([1]);
    expect(await clientCheck(team)).toEqual({ status: 'ok' });
  });
  // Last: its background repair goes on over every team after the test.
  it('when a process starts as main.ts starts it, then it repairs in the background', async () => {
    const team = await newTeam('Restart practice');
    await storeWithoutLogging(team, addNurse());
    createApp({
      connection: server.connection,
      logger: createLogger('silent'),
      settings: { ...server.settings, readCacheTtlMs: 0 },
      repairAtStart: true,
    });
    const deadline = Date.now() + 60_000;
    while ((await leafSeqs(team.id)).length < 2 && Date.now() < deadline)
      await new Promise((r) => setTimeout(r, 100));
    expect(await leafSeqs(team.id)).toEqual([0, 1]);
    expect(await clientCheck(team)).toEqual({ status: 'ok' });
  });
});
