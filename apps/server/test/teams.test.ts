import { replayTeamLog, unwrapTeamKey, type TeamState } from '@medseal/crypto';
import type {
  KeyEnvelopeResponse,
  PracticeDto,
  TeamDto,
  TeamListResponse,
  TeamStatementsResponse,
} from '@medseal/contract';
import { codeOf } from './helpers/client';
import {
  addMember,
  createPracticeAs,
  createTeamAs,
  memberEntry,
  removeMember,
  rotateTeam,
  statementBody,
  tampered,
  type TestTeam,
} from './helpers/teams';
import { registerUser, type TestUser } from './helpers/users';
import { startTestServer, type TestServer } from './support';

let server: TestServer;
let admin: TestUser;
let drA: TestUser;
let drB: TestUser;
let patient: TestUser;
beforeAll(async () => {
  server = await startTestServer();
  [admin, drA, drB, patient] = await Promise.all([
    registerUser(server.baseUrl, { name: 'Dr Admin', role: 'doctor' }),
    registerUser(server.baseUrl, { name: 'Dr Alice', role: 'doctor' }),
    registerUser(server.baseUrl, { name: 'Dr Bob', role: 'doctor' }),
    registerUser(server.baseUrl, { name: 'Pat', role: 'patient' }),
  ]);
});
afterAll(() => server.close());

const everyone = () => [admin, drA, drB, patient];

/** What a member's browser does: fetch my envelope of the current key and unwrap it. */
async function unwrapCurrent(team: TestTeam, member: TestUser) {
  const key = team.state.keys[team.state.keys.length - 1];
  if (!key) throw new Error('no key');
  const res = await member.api.get<KeyEnvelopeResponse>(
    `/teams/${team.id}/key-envelopes/${key.gen}`,
  );
  if (res.status !== 200) return res.status;
  return unwrapTeamKey({
    message: res.body.message,
    myKey: member.key.privateKey,
    context: { teamId: team.id, gen: key.gen, memberId: member.id },
    expected: key,
  });
}

/** What every client does with a team: read all its statements and replay them. */
async function replayFromServer(viewer: TestUser, teamId: string): Promise<TeamState> {
  const res = await viewer.api.get<TeamStatementsResponse>(`/teams/${teamId}/statements`);
  expect(res.status).toBe(200);
  const result = await replayTeamLog({
    teamId,
    statements: res.body.statements.map((x) => x.signed),
    publicKeys: res.body.publicKeys.map((k) => k.publicKey),
  });
  if (result.status !== 'verified') throw new Error(JSON.stringify(result));
  return result.state;
}

describe('practices', () => {
  it('when a doctor creates a practice, then she is its admin; a patient may not create one', async () => {
    const practice = await createPracticeAs(admin, 'Riverside Clinic');
    expect(practice.admins.map((a) => a.userId)).toEqual([admin.id]);
    const refused = await patient.api.post('/practices', { name: 'Not a clinic' });
    expect(refused.status).toBe(403);
    expect(codeOf(refused)).toBe('doctors-only');
    const team = await createTeamAs(admin, practice, { name: 'Dermatology' });
    const mine = await admin.api.get<{ practices: PracticeDto[] }>('/practices');
    expect(mine.body.practices.find((p) => p.id === practice.id)?.teams).toEqual([
      { id: team.id, name: 'Dermatology' },
    ]);
  });

  it('when an admin adds and removes another admin, then the list follows, and the last admin stays', async () => {
    const practice = await createPracticeAs(admin, 'Hillside');
    const added = await admin.api.post<PracticeDto>(`/practices/${practice.id}/admins`, {
      userId: drA.id,
    });
    expect(added.status).toBe(200);
    expect(added.body.admins.map((a) => a.userId).sort()).toEqual([admin.id, drA.id].sort());
    expect(
      codeOf(await admin.api.post(`/practices/${practice.id}/admins`, { userId: patient.id })),
    ).toBe('doctors-only');
    expect(
      codeOf(await admin.api.post(`/practices/${practice.id}/admins`, { userId: drA.id })),
    ).toBe('already-admin');
    expect((await drA.api.delete(`/practices/${practice.id}/admins/${admin.id}`)).status).toBe(204);
    const last = await drA.api.delete(`/practices/${practice.id}/admins/${drA.id}`);
    expect([last.status, codeOf(last)]).toEqual([400, 'last-admin']);
    // the removed admin no longer sees the practice at all
    expect(
      codeOf(await admin.api.post(`/practices/${practice.id}/admins`, { userId: drB.id })),
    ).toBe('practice-not-found');
  });
});

describe('teams', () => {
  it('when an admin creates a team and adds two doctors, then each unwraps exactly the team key and every client replays the same members', async () => {
    const practice = await createPracticeAs(admin);
    const team = await createTeamAs(admin, practice);
    await addMember(team, admin, drA);
    await addMember(team, admin, drB, 'nurse');
    for (const member of [admin, drA, drB]) {
      const key = await unwrapCurrent(team, member);
      expect(typeof key === 'object' && key.fingerprint).toBe(team.teamKeys[0]?.ref.fingerprint);
    }
    expect(await unwrapCurrent(team, patient)).toBe(404);
    const replayed = await replayFromServer(patient, team.id);
    expect(replayed).toEqual(team.state);
    const dto = await patient.api.get<TeamDto>(`/teams/${team.id}`);
    expect(dto.body.members.map((m) => [m.name, m.role, m.admin]).sort()).toEqual([
      ['Dr Admin', 'doctor', true],
      ['Dr Alice', 'doctor', false],
      ['Dr Bob', 'nurse', false],
    ]);
    expect(dto.body.root).toEqual({
      userId: admin.id,
      name: 'Dr Admin',
      fingerprint: admin.fingerprint,
    });
    expect(dto.body.genesis).toBe(team.state.genesis);
    const mine = await drA.api.get<TeamListResponse>('/teams');
    expect(mine.body.teams.map((t) => t.id)).toContain(team.id);
  });

  it('when a member is removed, then her envelopes are 404 at once and the others get the next key', async () => {
    const team = await createTeamAs(admin, await createPracticeAs(admin));
    await addMember(team, admin, drA);
    await addMember(team, admin, drB);
    expect(typeof (await unwrapCurrent(team, drA))).toBe('object');
    await removeMember(team, admin, drA, everyone());
    expect(await unwrapCurrent(team, drA)).toBe(404);
    expect((await drA.api.get(`/teams/${team.id}/key-envelopes/1`)).status).toBe(404);
    const bobs = await unwrapCurrent(team, drB);
    expect(typeof bobs === 'object' && bobs.fingerprint).toBe(team.teamKeys[1]?.ref.fingerprint);
    const dto = await drB.api.get<TeamDto>(`/teams/${team.id}`);
    expect(dto.body.keys.map((k) => [k.gen, k.fingerprint])).toEqual(
      team.state.keys.map((k) => [k.gen, k.fingerprint]),
    );
    expect(
      (await drA.api.get<TeamListResponse>('/teams')).body.teams.map((t) => t.id),
    ).not.toContain(team.id);
  });

  it('when the key is rotated, then every member holds the new generation and the old one stays readable to them', async () => {
    const team = await createTeamAs(admin, await createPracticeAs(admin));
    await addMember(team, admin, drA);
    await rotateTeam(team, admin, everyone());
    const key = await unwrapCurrent(team, drA);
    expect(typeof key === 'object' && key.fingerprint).toBe(team.teamKeys[1]?.ref.fingerprint);
    expect((await drA.api.get(`/teams/${team.id}/key-envelopes/1`)).status).toBe(200);
  });

  it('when two admins append at the same position at once, then one lands and the other gets 409 team-head-moved', async () => {
    const team = await createTeamAs(admin, await createPracticeAs(admin));
    await addMember(team, admin, drA, 'doctor', true);
    const [one, two] = await Promise.all([
      statementBody(team, admin, { type: 'add', member: memberEntry(drB) }, { recipients: [drB] }),
      statementBody(
        team,
        drA,
        { type: 'add', member: memberEntry(patient, 'staff') },
        { recipients: [patient] },
      ),
    ]);
    const results = await Promise.all([
      admin.api.post(`/teams/${team.id}/statements`, one.body),
      drA.api.post(`/teams/${team.id}/statements`, two.body),
    ]);
    expect(results.map((r) => r.status).sort()).toEqual([201, 409]);
    expect(results.map(codeOf).filter(Boolean)).toEqual(['team-head-moved']);
    const state = await replayFromServer(drA, team.id);
    expect(state.seq).toBe(2);
    expect(state.members).toHaveLength(3);
  });

  it('when the process died after storing a removal but before projecting it, then the next read applies it: the leaver gets 404', async () => {
    const team = await createTeamAs(admin, await createPracticeAs(admin));
    await addMember(team, admin, drA);
    const { generateTeamKey } = await import('@medseal/crypto');
    const next = await generateTeamKey();
    const built = await statementBody(
      team,
      admin,
      { type: 'remove', userId: drA.id as TeamState['root']['userId'], teamKey: next.ref },
      { recipients: [admin], teamKey: next },
    );
    // Exactly the commit step, as the use case does it, without what follows it.
    const statements = server.connection.collection('team_statements');
    await statements.insertOne({
      _id: `${team.id}:2` as never,
      teamId: team.id,
      seq: 2,
      signed: built.body.statement,
      by: admin.id,
      teamPublicKey: next.publicKey,
      createdAt: new Date(),
    });
    const projectedSeq = async () =>
      (
        await server.connection
          .collection<{ _id: string; state: { seq: number } }>('teams')
          .findOne({ _id: team.id })
      )?.state.seq;
    expect(await projectedSeq()).toBe(1);
    expect((await drA.api.get(`/teams/${team.id}/key-envelopes/1`)).status).toBe(404);
    expect(await projectedSeq()).toBe(2);
    expect(
      (await drA.api.get<TeamListResponse>('/teams')).body.teams.map((t) => t.id),
    ).not.toContain(team.id);
  });

  it('when a stored statement that is not projected yet was changed in the database, then the team is not served at all', async () => {
    const team = await createTeamAs(admin, await createPracticeAs(admin));
    const built = await statementBody(
      team,
      admin,
      { type: 'add', member: memberEntry(drA) },
      { recipients: [drA] },
    );
    // An operator stores, as statement 1, the admin's statement with another member in it.
    const signed = tampered(built.body.statement, drA.id, drB.id);
    await server.connection.collection('team_statements').insertOne({
      _id: `${team.id}:1` as never,
      teamId: team.id,
      seq: 1,
      signed,
      by: admin.id,
      createdAt: new Date(),
    });
    const res = await drA.api.get(`/teams/${team.id}`);
    expect([res.status, codeOf(res)]).toEqual([500, 'internal']);
    expect((await drA.api.get(`/teams/${team.id}/key-envelopes/1`)).status).toBe(500);
  });

  it('when a patient searches teams by name, then she finds it with its root admin', async () => {
    const team = await createTeamAs(admin, await createPracticeAs(admin), {
      name: 'Oncology Ward 7',
    });
    const found = await patient.api.get<TeamListResponse>('/team-directory?namePrefix=oncology');
    expect(found.body.teams).toEqual([
      {
        id: team.id,
        name: 'Oncology Ward 7',
        practiceId: team.state.practiceId,
        practiceName: "St Mary's",
        root: { userId: admin.id, name: 'Dr Admin', fingerprint: admin.fingerprint },
      },
    ]);
  });
});
