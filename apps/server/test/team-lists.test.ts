import type { PracticeDto, TeamListResponse } from '@medseal/contract';
import { freshTestDatabaseUri } from '@medseal/devdb/test-database';
import { createTeamLists, migrateTeamLists } from '../src/components/teams/lists';
import { createLogger } from '../src/lib/logger';
import { createModels } from '../src/services';
import { collectionScans, filtersSentDuring, monitored } from './helpers/commands';
import {
  addMember,
  createPracticeAs,
  createTeamAs,
  removeMember,
  type TestTeam,
} from './helpers/teams';
import { registerUser, type TestUser } from './helpers/users';
import { startTestServer, type TestServer } from './support';

/**
 * "My teams" and the team directory come to teams through lists addressed by `_id`
 * (components/teams/lists.ts), not a query by user id or by name, which FerretDB v1 answers by
 * reading every membership or every team (DESIGN §9).
 */
let server: TestServer;
let admin: TestUser;
let drA: TestUser;
let patient: TestUser;
const teams: Record<string, TestTeam> = {};
beforeAll(async () => {
  server = await startTestServer({ mongoUri: monitored(freshTestDatabaseUri('team_lists')) });
  admin = await registerUser(server.baseUrl, { name: 'Dr Admin', role: 'doctor' });
  drA = await registerUser(server.baseUrl, { name: 'Dr Ada', role: 'doctor' });
  patient = await registerUser(server.baseUrl, { name: 'Pia Patient' });
  const practice = await createPracticeAs(admin);
  for (const name of [
    'Cardiology',
    'Carpal Clinic',
    'Cardiac Surgery',
    'Oncology',
    'Ca',
    'Ωmega Ward',
  ])
    teams[name] = await createTeamAs(admin, practice, { name });
}, 120_000);
afterAll(() => server.close());

const names = (res: { body: TeamListResponse }) => res.body.teams.map((t) => t.name);
const myTeams = async (user: TestUser) => names(await user.api.get<TeamListResponse>('/teams'));
const practicesOf = async (user: TestUser) =>
  (await user.api.get<{ practices: PracticeDto[] }>('/practices')).body.practices.map((p) => ({
    name: p.name,
    teams: p.teams.map((t) => t.name),
  }));
let practices: { name: string; teams: string[] }[] = [];
const search = async (prefix: string) =>
  names(
    await patient.api.get<TeamListResponse>(
      `/team-directory?namePrefix=${encodeURIComponent(prefix)}`,
    ),
  );

describe('the lists of teams', () => {
  it('when a doctor joins teams and leaves one, then "my teams" lists those she is in now, each once, and asks only for `_id`s', async () => {
    const [cardiology, oncology] = [teams.Cardiology, teams.Oncology];
    if (!cardiology || !oncology) throw new Error('teams missing');
    await addMember(cardiology, admin, drA);
    await addMember(oncology, admin, drA);
    await removeMember(oncology, admin, drA, [admin, drA]);
    const filters = await filtersSentDuring(server.connection, async () => {
      expect(await myTeams(drA)).toEqual(['Cardiology']);
      await addMember(oncology, admin, drA);
      expect(await myTeams(drA)).toEqual(['Cardiology', 'Oncology']);
      expect((await myTeams(admin)).sort()).toEqual(Object.keys(teams).sort());
    });
    expect(await collectionScans(server.connection, filters)).toEqual([]);
  });

  it('when someone searches teams by the start of their name, then she gets exactly those, by name, whatever the case, and only `_id`s are asked for', async () => {
    const filters = await filtersSentDuring(server.connection, async () => {
      expect(await search('car')).toEqual(['Cardiac Surgery', 'Cardiology', 'Carpal Clinic']);
      expect(await search('CA')).toEqual(['Ca', 'Cardiac Surgery', 'Cardiology', 'Carpal Clinic']);
      expect(await search('Cardi')).toEqual(['Cardiac Surgery', 'Cardiology']);
      expect(await search('cardiology')).toEqual(['Cardiology']);
      expect(await search('cardiology x')).toEqual([]);
      expect(await search('ωme')).toEqual(['Ωmega Ward']);
      expect(await search('on')).toEqual(['Oncology']);
      expect(await search('zz')).toEqual([]);
    });
    expect(await collectionScans(server.connection, filters)).toEqual([]);
  });

  it('when a doctor administers practices, then her practices and the teams of each are listed right, and only `_id`s are asked for', async () => {
    const drB = await registerUser(server.baseUrl, { name: 'Dr Bo', role: 'doctor' });
    const stMarys = await admin.api.get<{ practices: PracticeDto[] }>('/practices');
    const practiceId = stMarys.body.practices[0]?.id;
    expect(
      (await admin.api.post(`/practices/${practiceId}/admins`, { userId: drA.id })).status,
    ).toBe(200);
    expect(
      (await admin.api.post(`/practices/${practiceId}/admins`, { userId: drB.id })).status,
    ).toBe(200);
    expect((await admin.api.delete(`/practices/${practiceId}/admins/${drB.id}`)).status).toBe(204);
    await createPracticeAs(drA, 'Riverside');
    const filters = await filtersSentDuring(server.connection, async () => {
      practices = await practicesOf(drA);
      expect(practices).toEqual([
        {
          name: "St Mary's",
          teams: ['Cardiology', 'Carpal Clinic', 'Cardiac Surgery', 'Oncology', 'Ca', 'Ωmega Ward'],
        },
        { name: 'Riverside', teams: [] },
      ]);
      expect(await practicesOf(drB)).toEqual([]);
    });
    expect(await collectionScans(server.connection, filters)).toEqual([]);
  });

  it('when teams were stored before the lists existed, then the migration lists them once, and again adds nothing', async () => {
    const models = createModels(server.connection);
    const before = {
      ada: await myTeams(drA),
      admin: (await myTeams(admin)).sort(),
      car: await search('car'),
    };
    for (const list of Object.values(models.teamLists)) await list.deleteMany({});
    const migrate = () =>
      migrateTeamLists({
        teams: models.teams,
        practices: models.practices,
        lists: createTeamLists(models.teamLists),
        logger: createLogger('silent'),
      });
    // Eight memberships (the admin in each of six teams, Dr Ada in two), each name in the lists
    // of its first 2, 3 and 4 characters ("Ca" only in one), six teams in their practice, and
    // the practices' admins (two of St Mary's, one of Riverside).
    await expect(migrate()).resolves.toBe(8 + (5 * 3 + 1) + 6 + 3);
    await expect(migrate()).resolves.toBe(0);
    expect({
      ada: await myTeams(drA),
      admin: (await myTeams(admin)).sort(),
      car: await search('car'),
    }).toEqual(before);
    expect(await practicesOf(drA)).toEqual(practices);
  });
});
