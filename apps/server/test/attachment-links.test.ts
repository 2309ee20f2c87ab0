import { recordListResponseSchema, recordSchema } from '@medseal/contract';
import { freshTestDatabaseUri } from '@medseal/devdb/test-database';
import { createLogger } from '../src/lib/logger';
import { runMigrations } from '../src/migrations';
import { ApiClient } from './helpers/client';
import { encryptTo } from './helpers/pgp';
import { createRecordAs } from './helpers/records';
import { registerUser, type TestUser } from './helpers/users';
import { startTestServer, type TestServer } from './support';

async function attach(user: TestUser, recordId: string, readers: TestUser[]): Promise<string> {
  const data = new Uint8Array(
    await encryptTo(
      readers.map((u) => u.publicKey),
      'scan bytes',
      { armor: false },
    ),
  );
  const up = await user.api.request('POST', `/records/${recordId}/attachments`, {
    raw: { data, contentType: 'application/octet-stream' },
  });
  expect(up.status).toBe(201);
  return (up.body as { id: string }).id;
}

async function listedOn(
  api: ApiClient,
  recordId: string,
): Promise<{ get: string[]; list: string[] }> {
  const got = recordSchema.parse((await api.get(`/records/${recordId}`)).body);
  const list = recordListResponseSchema.parse((await api.get('/records')).body);
  return {
    get: got.attachments.map((a) => a.id),
    list: list.records.find((r) => r.id === recordId)?.attachments.map((a) => a.id) ?? [],
  };
}

describe("a record's attachments, found by `_id` (attachment links)", () => {
  let server: TestServer;
  beforeAll(async () => {
    server = await startTestServer();
  });
  afterAll(() => server.close());

  it('when files are attached at once, more than one read of links holds (8), and one is deleted, then the record and the list name the others, oldest first', async () => {
    const patient = await registerUser(server.baseUrl, { name: 'Linked Patient' });
    const record = await createRecordAs(patient, patient, [patient]);
    const ids = await Promise.all([0, 1, 2, 3].map(() => attach(patient, record.id, [patient])));
    for (let i = 0; i < 6; i++) ids.push(await attach(patient, record.id, [patient]));
    const links = await server.connection
      .collection('attachment_links')
      .find({ recordId: record.id })
      .toArray();
    expect(links.map((l) => l._id as unknown as string).sort()).toEqual(
      Array.from({ length: 10 }, (_, i) => `${record.id}:${i + 1}`).sort(),
    );
    const created = await server.connection
      .collection('attachments')
      .find({ recordId: record.id })
      .sort({ createdAt: 1, _id: 1 })
      .toArray();
    const oldestFirst = created.map((a) => a._id as unknown as string);
    expect(new Set(oldestFirst)).toEqual(new Set(ids));
    expect(await listedOn(patient.api, record.id)).toEqual({ get: oldestFirst, list: oldestFirst });

    expect(
      (await patient.api.delete(`/records/${record.id}/attachments/${oldestFirst[1]}`)).status,
    ).toBe(204);
    expect(
      await server.connection
        .collection('attachment_chunks')
        .countDocuments({ attachmentId: oldestFirst[1] }),
    ).toBe(0);
    expect(
      await server.connection
        .collection('attachment_chunks')
        .countDocuments({ attachmentId: oldestFirst[0] }),
    ).toBe(1);
    const left = oldestFirst.filter((_, i) => i !== 1);
    expect(await listedOn(patient.api, record.id)).toEqual({ get: left, list: left });
  });

  it("when a link names another record's attachment, then the record does not list it", async () => {
    const patient = await registerUser(server.baseUrl, { name: 'Linked Twice' });
    const mine = await createRecordAs(patient, patient, [patient]);
    const theirs = await createRecordAs(patient, patient, [patient]);
    const file = await attach(patient, theirs.id, [patient]);
    // What a database writer could store: a link of `mine` naming a file of `theirs`.
    await server.connection
      .collection('attachment_links')
      .insertOne({ _id: `${mine.id}:1`, recordId: mine.id, attachmentId: file } as never);
    expect((await listedOn(patient.api, mine.id)).get).toEqual([]);
    expect((await patient.api.get(`/records/${mine.id}/attachments/${file}`)).status).toBe(404);
  });
});

describe('the attachment links migration', () => {
  it('when attachments were stored before the links, then after the migration the record and the list name them, once', async () => {
    const uri = freshTestDatabaseUri('attachment_links_migration');
    const before = await startTestServer({ mongoUri: uri });
    const patient = await registerUser(before.baseUrl, { name: 'Early Attacher' });
    const record = await createRecordAs(patient, patient, [patient]);
    const first = await attach(patient, record.id, [patient]);
    const second = await attach(patient, record.id, [patient]);
    const other = await createRecordAs(patient, patient, [patient]);
    const third = await attach(patient, other.id, [patient]);
    // As the attachments were before the links existed.
    await before.connection.collection('attachment_links').deleteMany({});
    await before.shutdown(0);
    await before.connection.close();

    const migrated = await startTestServer({ mongoUri: uri, settings: before.settings });
    try {
      await runMigrations(migrated.connection, createLogger('silent'), {
        ktLogKey: before.settings.secrets.ktLogKey,
      });
      await runMigrations(migrated.connection, createLogger('silent'), {
        ktLogKey: before.settings.secrets.ktLogKey,
      }); // recorded as done: nothing twice
      const api = new ApiClient(migrated.baseUrl);
      api.cookie = patient.api.cookie;
      expect(await listedOn(api, record.id)).toEqual({
        get: [first, second],
        list: [first, second],
      });
      expect((await listedOn(api, other.id)).get).toEqual([third]);
      expect(await migrated.connection.collection('attachment_links').countDocuments()).toBe(3);
      // An upload after the migration goes after the migrated links.
      const fourth = await attach({ ...patient, api }, record.id, [patient]);
      expect((await listedOn(api, record.id)).get).toEqual([first, second, fourth]);
      // A process of the release before, still running in a rolling deploy, stores a file
      // without a link: it stays unlisted until the migrations run again after it stopped.
      const fifth = await attach({ ...patient, api }, record.id, [patient]);
      await migrated.connection
        .collection('attachment_links')
        .deleteOne({ attachmentId: fifth } as never);
      expect((await listedOn(api, record.id)).get).toEqual([first, second, fourth]);
      await runMigrations(migrated.connection, createLogger('silent'), {
        again: true,
        ktLogKey: before.settings.secrets.ktLogKey,
      });
      // Read by a process whose read cache did not hold the list (others' expire within 10 s).
      const later = await startTestServer({ mongoUri: uri, settings: before.settings });
      try {
        const laterApi = new ApiClient(later.baseUrl);
        laterApi.cookie = patient.api.cookie;
        expect((await listedOn(laterApi, record.id)).get).toEqual([first, second, fourth, fifth]);
      } finally {
        await later.shutdown(0);
        await later.connection.close();
      }
    } finally {
      await migrated.close();
    }
  });
});
