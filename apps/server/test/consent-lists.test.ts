import { consentListResponseSchema, type DirectoryResponse } from '@medseal/contract';
import { freshTestDatabaseUri } from '@medseal/devdb/test-database';
import { migrateConsentLists } from '../src/components/consents/model';
import { createLogger } from '../src/lib/logger';
import { IdLists } from '../src/lib/store';
import { createModels } from '../src/services';
import { collectionScans, filtersSentDuring, monitored } from './helpers/commands';
import { giveConsent, giveTeamConsent, putConsent } from './helpers/consents';
import { createPracticeAs, createTeamAs } from './helpers/teams';
import { registerUser, type TestUser } from './helpers/users';
import { startTestServer, type TestServer } from './support';

/**
 * A patient's consents, and the people a consent connects, come from lists addressed by `_id`
 * (components/consents/model.ts), not a query by patient or subject, which FerretDB v1 answers
 * by reading every consent (DESIGN §9).
 */
let server: TestServer;
let patient: TestUser;
let drA: TestUser;
let drB: TestUser;
let teamAdmin: TestUser;
let teamId: string;
beforeAll(async () => {
  server = await startTestServer({ mongoUri: monitored(freshTestDatabaseUri('consent_lists')) });
  patient = await registerUser(server.baseUrl, { name: 'Yy Patient' });
  drA = await registerUser(server.baseUrl, { name: 'Yy Doctor A', role: 'doctor' });
  drB = await registerUser(server.baseUrl, { name: 'Yy Doctor B', role: 'doctor' });
  teamAdmin = await registerUser(server.baseUrl, { name: 'Yy Team Admin', role: 'doctor' });
  await giveConsent(patient, drA);
  await giveConsent(patient, drB);
  expect((await putConsent(patient, drB, { seq: 2, withdraw: true })).status).toBe(200);
  const team = await createTeamAs(teamAdmin, await createPracticeAs(teamAdmin));
  teamId = team.id;
  await giveTeamConsent(patient, team);
}, 120_000);
afterAll(() => server.close());

/** What each side sees: her consents (as she and as Dr A list them) and whom the directory connects. */
async function seen() {
  const list = async (user: TestUser) => {
    const res = await user.api.get(`/patients/${patient.id}/consents`);
    return res.status === 200
      ? consentListResponseSchema
          .parse(res.body)
          .consents.map(
            (c) =>
              `${c.subjectKind} ${c.subjectId === drA.id ? 'A' : c.subjectId === drB.id ? 'B' : 'team'} ${c.withdrawnAt ? 'withdrawn' : 'current'}`,
          )
      : res.status;
  };
  const found = async (user: TestUser) =>
    (await user.api.get<DirectoryResponse>('/users?namePrefix=yy')).body.users
      .map((u) => u.name)
      .sort();
  return {
    byHer: await list(patient),
    byA: await list(drA),
    byB: await list(drB),
    herFinds: await found(patient),
    aFinds: await found(drA),
    bFinds: await found(drB),
  };
}

describe('the lists of consents', () => {
  it('when a patient consents to two doctors, withdraws one, and consents to a team, then her list, her carers and the directory see exactly that, by `_id`s alone', async () => {
    let got: Awaited<ReturnType<typeof seen>> | undefined;
    const filters = await filtersSentDuring(server.connection, async () => {
      got = await seen();
    });
    // Her list goes by consent `_id`: `<patientId>:<doctorId>`, `<patientId>:team:<teamId>`.
    const byId = [
      { id: drA.id, line: 'person A current' },
      { id: drB.id, line: 'person B withdrawn' },
      { id: `team:${teamId}`, line: 'team team current' },
    ]
      .sort((a, b) => (a.id < b.id ? -1 : 1))
      .map((c) => c.line);
    expect(got).toEqual({
      byHer: byId,
      byA: byId,
      byB: 404,
      herFinds: ['Yy Doctor A'],
      aFinds: ['Yy Patient'],
      bFinds: [],
    });
    // The people directory's search by name is a scan of the users on FerretDB (docs/decisions.md).
    expect(
      (await collectionScans(server.connection, filters)).filter((f) => f.collection !== 'users'),
    ).toEqual([]);
  });

  it('when consents were stored before the lists existed, then the migration lists each once, and again adds nothing', async () => {
    const before = await seen();
    const models = createModels(server.connection);
    await models.consentLists.deleteMany({});
    const migrate = () =>
      migrateConsentLists({
        consents: models.consents,
        lists: new IdLists(models.consentLists),
        logger: createLogger('silent'),
      });
    // Three in her list, the two to persons in theirs.
    await expect(migrate()).resolves.toBe(3 + 2);
    await expect(migrate()).resolves.toBe(0);
    expect(await seen()).toEqual(before);
  });
});
