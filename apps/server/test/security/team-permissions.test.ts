// The care-team permission matrix: {team admin, team member, removed member, other team's
// member, outsider, anonymous} × every team operation and every operation on a patient's record
// shared with the team (members read and write for her; only she shares and reads the trail). A team's statements and public keys are
// public to every session (a patient must check them before sharing); key envelopes only to
// current members; changes only to current admins; teams are created only by practice admins.
import { generateTeamKey } from '@medseal/crypto';
import type { RecordDto, TeamListResponse } from '@medseal/contract';
import { ApiClient, codeOf, type ApiResponse } from '../helpers/client';
import {
  addMember,
  asIfAdmin,
  createPracticeAs,
  createTeamAs,
  createTeamBody,
  memberEntry,
  removeMember,
  shareWithTeam,
  statementBody,
  teamGrantBody,
  type TestTeam,
} from '../helpers/teams';
import { giveTeamConsent } from '../helpers/consents';
import { createRecordAs, recipientsOf } from '../helpers/records';
import { registerUser, type TestUser } from '../helpers/users';
import { startTestServer, type TestServer } from '../support';

let server: TestServer;
let admin: TestUser;
let member: TestUser;
let removed: TestUser;
let otherMember: TestUser;
let outsider: TestUser;
let newcomer: TestUser;
let practice: { id: string; name: string };
let team: TestTeam;
let patient: TestUser;
let record: RecordDto;
let shareBody: unknown;
beforeAll(async () => {
  server = await startTestServer();
  const doctor = (name: string) => registerUser(server.baseUrl, { name, role: 'doctor' });
  [admin, member, removed, otherMember, outsider, newcomer] = await Promise.all([
    doctor('Dr Admin'),
    doctor('Dr Member'),
    doctor('Dr Removed'),
    doctor('Dr Elsewhere'),
    doctor('Dr Outsider'),
    doctor('Dr New'),
  ]);
  practice = await createPracticeAs(admin);
  team = await createTeamAs(admin, practice);
  await addMember(team, admin, member);
  await addMember(team, admin, removed);
  // Shared while the removed member still was one: she read it, then the removal landed.
  patient = await registerUser(server.baseUrl, { name: 'Pat', role: 'patient' });
  record = await createRecordAs(patient, patient, [patient]);
  await shareWithTeam(patient, team, record);
  // Members write for her under her consent to the team (DESIGN §13; without it: no-consent,
  // test/security/team-consent.test.ts).
  await giveTeamConsent(patient, team);
  expect((await removed.api.get(`/records/${record.id}`)).status).toBe(200);
  await removeMember(team, admin, removed, [admin, member, removed]);
  shareBody = await teamGrantBody(patient, team, record);
  const otherTeam = await createTeamAs(
    otherMember,
    await createPracticeAs(otherMember, 'Elsewhere'),
  );
  expect(otherTeam.state.members).toHaveLength(1);
});
afterAll(() => server.close());

type Actor =
  | 'team admin'
  | 'team member'
  | 'removed member'
  | "other team's member"
  | 'outsider'
  | 'anonymous';
const actors: Actor[] = [
  'team admin',
  'team member',
  'removed member',
  "other team's member",
  'outsider',
  'anonymous',
];

function user(actor: Actor): TestUser | undefined {
  return {
    'team admin': admin,
    'team member': member,
    'removed member': removed,
    "other team's member": otherMember,
    outsider,
    anonymous: undefined,
  }[actor];
}
const client = (actor: Actor) => user(actor)?.api ?? new ApiClient(server.baseUrl);

/** Expected answer per operation and actor: a status, or [status, code]. */
type Expect = number | [number, string];
const readable: Record<Actor, Expect> = {
  'team admin': 200,
  'team member': 200,
  'removed member': 200,
  "other team's member": 200,
  outsider: 200,
  anonymous: 401,
};
const membersOnly: Record<Actor, Expect> = {
  'team admin': 200,
  'team member': 200,
  'removed member': [404, 'key-envelope-not-found'],
  "other team's member": [404, 'key-envelope-not-found'],
  outsider: [404, 'key-envelope-not-found'],
  anonymous: 401,
};

/** A patient's record shared with the team: its current members read and write, nobody else. */
const recordReaders: Record<Actor, Expect> = {
  'team admin': 200,
  'team member': 200,
  'removed member': [404, 'record-not-found'],
  "other team's member": [404, 'record-not-found'],
  outsider: [404, 'record-not-found'],
  anonymous: 401,
};
/** What only the owner (or the author) may do: members have no such right. */
const ownerOnly: Record<Actor, Expect> = {
  ...recordReaders,
  'team admin': [403, 'forbidden'],
  'team member': [403, 'forbidden'],
};

const operations: Record<
  string,
  { run: (actor: Actor) => Promise<ApiResponse>; expect: Record<Actor, Expect> }
> = {
  'read the team': { run: (a) => client(a).get(`/teams/${team.id}`), expect: readable },
  'read its statements': {
    run: (a) => client(a).get(`/teams/${team.id}/statements`),
    expect: readable,
  },
  'get the current key envelope': {
    run: (a) => client(a).get(`/teams/${team.id}/key-envelopes/2`),
    expect: membersOnly,
  },
  'get the first key envelope': {
    run: (a) => client(a).get(`/teams/${team.id}/key-envelopes/1`),
    expect: membersOnly,
  },
  "read a patient's record shared with the team": {
    run: (a) => client(a).get(`/records/${record.id}`),
    expect: recordReaders,
  },
  'read its versions': {
    run: (a) => client(a).get(`/records/${record.id}/versions`),
    expect: recordReaders,
  },
  'see who reads it': {
    run: (a) => client(a).get(`/records/${record.id}/access`),
    expect: recordReaders,
  },
  'write a new version of it (authorized, then a stale base)': {
    run: async (a) =>
      client(a).put(`/records/${record.id}`, {
        baseVersion: 99,
        recipients: recipientsOf(patient),
        message: record.message,
      }),
    expect: {
      ...recordReaders,
      'team admin': [409, 'version-conflict'],
      'team member': [409, 'version-conflict'],
    },
  },
  'share it on with a team': {
    run: (a) => client(a).post(`/records/${record.id}/teams`, shareBody),
    expect: ownerOnly,
  },
  'stop sharing it with the team': {
    run: (a) => client(a).delete(`/records/${record.id}/teams/${team.id}`),
    expect: ownerOnly,
  },
  'read its audit trail': {
    run: (a) => client(a).get(`/audit/records/${record.id}`),
    expect: ownerOnly,
  },
  "list the team's records": {
    run: (a) => client(a).get(`/teams/${team.id}/records`),
    expect: {
      'team admin': 200,
      'team member': 200,
      'removed member': [404, 'team-not-found'],
      "other team's member": [404, 'team-not-found'],
      outsider: [404, 'team-not-found'],
      anonymous: 401,
    },
  },
  'create a team in the practice': {
    run: async (a) => {
      const signer = user(a) ?? outsider;
      return client(a).post(
        `/practices/${practice.id}/teams`,
        (await createTeamBody(signer, practice)).body,
      );
    },
    expect: {
      'team admin': 201,
      'team member': [404, 'practice-not-found'],
      'removed member': [404, 'practice-not-found'],
      "other team's member": [404, 'practice-not-found'],
      outsider: [404, 'practice-not-found'],
      anonymous: 401,
    },
  },
};

const cells = actors.flatMap((actor) => Object.keys(operations).map((op) => [actor, op] as const));

describe('the care-team permission matrix', () => {
  it.each(cells)(
    'when the %s tries to %s, then only an allowed cell succeeds',
    async (actor, op) => {
      const operation = operations[op];
      if (!operation) throw new Error(op);
      const res = await operation.run(actor);
      const expected = operation.expect[actor];
      if (typeof expected === 'number') expect(res.status).toBe(expected);
      else expect([res.status, codeOf(res)]).toEqual(expected);
      if (res.status >= 400) expect(JSON.stringify(res.body)).not.toContain('-----BEGIN');
    },
  );

  it.each(actors)(
    'when the %s signs the addition of a newcomer, then only the team admin changes the team',
    async (actor) => {
      // A fresh team per actor: a landed change moves the head.
      const t = await createTeamAs(admin, practice);
      await addMember(t, admin, member);
      await addMember(t, admin, removed);
      await removeMember(t, admin, removed, [admin, member, removed]);
      const signer = user(actor) ?? admin;
      // Each signs against the team as if they were its admin (a removed admin, a member, ...).
      const built = await statementBody(
        asIfAdmin(t, signer),
        signer,
        { type: 'add', member: memberEntry(newcomer) },
        { recipients: [newcomer] },
      );
      const res = await client(actor).post(`/teams/${t.id}/statements`, built.body);
      if (actor === 'anonymous') expect(res.status).toBe(401);
      else if (actor === 'team admin') expect(res.status).toBe(201);
      else expect([res.status, codeOf(res)]).toEqual([403, 'not-team-admin']);
    },
  );

  it.each(actors)(
    'when the %s lists their teams, then the team appears only for its current members',
    async (actor) => {
      const res = await client(actor).get<TeamListResponse>('/teams');
      if (actor === 'anonymous') return expect(res.status).toBe(401);
      const listed = res.body.teams.some((t) => t.id === team.id);
      expect(listed).toBe(actor === 'team admin' || actor === 'team member');
    },
  );

  it('when a removal lands, then the removed member cannot rotate the key back into her hands', async () => {
    const next = await generateTeamKey();
    const built = await statementBody(
      asIfAdmin(team, removed),
      removed,
      { type: 'rotate', teamKey: next.ref },
      { recipients: [admin, member, removed], teamKey: next },
    );
    const res = await removed.api.post(`/teams/${team.id}/statements`, built.body);
    expect([res.status, codeOf(res)]).toEqual([403, 'not-team-admin']);
  });
});
