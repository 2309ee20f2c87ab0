import { grantBatchResponseSchema, recordListResponseSchema } from '@medseal/contract';
import { freshTestDatabaseUri } from '@medseal/devdb/test-database';
import { collectionScans, filtersSentDuring, monitored } from './helpers/commands';
import { giveConsent } from './helpers/consents';
import {
  createBody,
  createRecordAs,
  grantBody,
  recipientsOf,
  sealFor,
  share,
} from './helpers/records';
import { registerUser, type TestUser } from './helpers/users';
import { startTestServer, type TestServer } from './support';

/**
 * Sharing must cost what it shares, not what the database holds (DESIGN §9): every read,
 * update and delete it sends is an `_id` lookup, on FerretDB one that SQLite answers from the
 * `_id` index. A share's compare-and-set `{_id, rev}` once read all records (FerretDB narrowed
 * only a filter that was the `_id` and nothing else): sharing 100 records after 1,000 were
 * written took 30 s under load, with 503s (web bench, issue 14).
 */
let server: TestServer;
let patient: TestUser;
let doctor: TestUser;
let grantee: TestUser;
let own: { id: string; message: string }[];
beforeAll(async () => {
  server = await startTestServer({ mongoUri: monitored(freshTestDatabaseUri('share_lookups')) });
  patient = await registerUser(server.baseUrl, { name: 'Lena Lookup' });
  doctor = await registerUser(server.baseUrl, { name: 'Dr Writer', role: 'doctor' });
  grantee = await registerUser(server.baseUrl, { name: 'Dr Grantee', role: 'doctor' });
  // Records in the database besides those shared: the doctor writes for the patient under her
  // consent (both read them), as the web bench seeds its list.
  await giveConsent(patient, doctor);
  for (let i = 0; i < 40; i += 8) {
    await Promise.all(
      Array.from({ length: 8 }, async () => {
        const res = await doctor.api.post(
          '/records',
          await createBody(doctor, patient, [patient, doctor]),
        );
        if (res.status !== 201) throw new Error(`create failed: ${res.status}`);
      }),
    );
  }
  own = [];
  for (let i = 0; i < 26; i += 1) own.push(await createRecordAs(patient, patient, [patient]));
}, 120_000);
afterAll(() => server.close());

describe('what sharing and records ask of the database', () => {
  it('when a patient shares a batch of records, one more record alone, and the grantee lists them, then every read, update and delete is an `_id` lookup', async () => {
    const batch = await Promise.all(
      own
        .slice(0, 25)
        .map(async (r) => ({ recordId: r.id, ...(await grantBody(patient, grantee, r)) })),
    );
    const single = own[25];
    if (!single) throw new Error('no record left to share alone');
    const singleBody = await grantBody(patient, grantee, single);
    let listed: string[] = [];

    const filters = await filtersSentDuring(server.connection, async () => {
      const res = await patient.api.post('/grants', { grants: batch });
      expect(res.status).toBe(200);
      expect(grantBatchResponseSchema.parse(res.body).results.map((r) => r.status)).toEqual(
        batch.map(() => 'shared'),
      );
      expect((await patient.api.post(`/records/${single.id}/grants`, singleBody)).status).toBe(201);
      const list = await grantee.api.get('/records?limit=50');
      expect(list.status).toBe(200);
      listed = recordListResponseSchema.parse(list.body).records.map((r) => r.id);
    });

    expect(listed.sort()).toEqual(own.map((r) => r.id).sort());
    const collections = new Set(filters.map((f) => f.collection));
    expect([...collections]).toEqual(expect.arrayContaining(['records', 'grants']));
    expect(
      filters.filter((f) => f.command === 'update' && f.collection === 'records'),
    ).toHaveLength(26);
    expect(await collectionScans(server.connection, filters)).toEqual([]);
  });

  it('when a record is written, read, changed, its history and trail read, its grant revoked and it is deleted, then every read, update and delete is an `_id` lookup', async () => {
    const filters = await filtersSentDuring(server.connection, async () => {
      const record = await createRecordAs(doctor, patient, [patient, doctor]);
      expect((await patient.api.get(`/records/${record.id}`)).status).toBe(200);
      expect((await doctor.api.get(`/records/${record.id}`)).status).toBe(200);
      const message = await sealFor({
        recordId: record.id,
        version: 2,
        owner: patient,
        author: patient,
        readers: [patient, doctor],
      });
      expect(
        (
          await patient.api.put(`/records/${record.id}`, {
            baseVersion: 1,
            recipients: recipientsOf(patient, doctor),
            message,
          })
        ).status,
      ).toBe(200);
      expect((await doctor.api.get(`/records/${record.id}/versions`)).status).toBe(200);
      expect((await doctor.api.get(`/records/${record.id}/versions/1`)).status).toBe(200);
      expect((await patient.api.get(`/records/${record.id}/access`)).status).toBe(200);
      expect((await patient.api.get(`/audit/records/${record.id}`)).status).toBe(200);
      await share(patient, grantee, { id: record.id, message });
      expect((await grantee.api.get(`/records/${record.id}`)).status).toBe(200);
      expect((await patient.api.delete(`/records/${record.id}/grants/${grantee.id}`)).status).toBe(
        204,
      );
      expect((await grantee.api.get(`/records/${record.id}`)).status).toBe(404);
      expect((await patient.api.delete(`/records/${record.id}`)).status).toBe(204);
    });
    expect(filters.filter((f) => f.collection === 'records').map((f) => f.command)).toEqual(
      expect.arrayContaining(['find', 'update', 'delete']),
    );
    expect(await collectionScans(server.connection, filters)).toEqual([]);
  });
});
