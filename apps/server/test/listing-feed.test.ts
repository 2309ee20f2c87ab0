import { setTimeout as delay } from 'node:timers/promises';
import {
  auditTrailResponseSchema,
  recordListResponseSchema,
  type RecordDto,
} from '@medseal/contract';
import { freshTestDatabaseUri } from '@medseal/devdb/test-database';
import type { Model } from 'mongoose';
import { ListingFeed } from '../src/components/records/feed';
import { createLogger } from '../src/lib/logger';
import { runMigrations } from '../src/migrations';
import { createModels } from '../src/services';
import { ApiClient } from './helpers/client';
import { armoredTo } from './helpers/pgp';
import { createRecordAs, recipientsOf, sealFor, share } from './helpers/records';
import { replacing, STALLED, stalled } from './helpers/stand-ins';
import { newRecordId, registerUser, type TestUser } from './helpers/users';
import { startTestServer, type TestServer } from './support';

let server: TestServer;
beforeAll(async () => {
  server = await startTestServer();
});
afterAll(() => server.close());

/** Every record id of the user's list, page by page (`limit` each), newest first. */
async function listAll(api: ApiClient, limit = 2): Promise<string[]> {
  const ids: string[] = [];
  let before: string | undefined;
  for (let page = 0; page < 100; page++) {
    const res = await api.get(`/records?limit=${limit}${before ? `&before=${before}` : ''}`);
    expect(res.status).toBe(200);
    const body = recordListResponseSchema.parse(res.body);
    ids.push(...body.records.map((r) => r.id));
    if (!body.nextCursor) return ids;
    before = body.nextCursor;
  }
  throw new Error('the list did not end');
}

async function updateAs(author: TestUser, record: RecordDto, readers: TestUser[]): Promise<void> {
  const message = await sealFor({
    recordId: record.id,
    version: record.version + 1,
    owner: author,
    author,
    readers,
  });
  const res = await author.api.put(`/records/${record.id}`, {
    baseVersion: record.version,
    recipients: recipientsOf(...readers),
    message,
  });
  expect(res.status).toBe(200);
}

describe('the listing feed', () => {
  it("when a record is updated, then it moves to the top of every reader's list and is listed once", async () => {
    const patient = await registerUser(server.baseUrl, { name: 'Feed Patient' });
    const records = [];
    for (let i = 0; i < 5; i++) records.push(await createRecordAs(patient, patient, [patient]));
    const [oldest] = records;
    if (!oldest) throw new Error('no record');
    await updateAs(patient, oldest, [patient]);
    await updateAs(patient, { ...oldest, version: 2 }, [patient]);
    const expected = [
      oldest.id,
      ...records
        .slice(1)
        .reverse()
        .map((r) => r.id),
    ];
    expect(await listAll(patient.api)).toEqual(expected);
    expect(await listAll(patient.api, 100)).toEqual(expected);
  });

  it("when a record is shared, then it tops the grantee's list; when revoked, it leaves it and stays in the owner's", async () => {
    const owner = await registerUser(server.baseUrl, { name: 'Feed Owner' });
    const reader = await registerUser(server.baseUrl, { name: 'Feed Reader' });
    const own = await createRecordAs(reader, reader, [reader]);
    const shared = await createRecordAs(owner, owner, [owner]);
    await share(owner, reader, shared);
    expect(await listAll(reader.api)).toEqual([shared.id, own.id]);
    expect((await owner.api.delete(`/records/${shared.id}/grants/${reader.id}`)).status).toBe(204);
    expect(await listAll(reader.api)).toEqual([own.id]);
    expect(await listAll(owner.api)).toEqual([shared.id]);
  });

  it('when a feed entry names a record the reader may not read (a write that failed half-way), then the list skips it', async () => {
    const owner = await registerUser(server.baseUrl, { name: 'Stranger Owner' });
    const reader = await registerUser(server.baseUrl, { name: 'Feed Prober' });
    const hidden = await createRecordAs(owner, owner, [owner]);
    const own = await createRecordAs(reader, reader, [reader]);
    await server.connection
      .collection<{ _id: string; recordId: string }>('record_feed')
      .insertOne({ _id: `${reader.id}:2`, recordId: hidden.id });
    expect(await listAll(reader.api)).toEqual([own.id]);
    const newer = await createRecordAs(reader, reader, [reader]);
    expect(await listAll(reader.api)).toEqual([newer.id, own.id]);
  });

  it('when a reader lists the same records again soon, then the trail has one list read, and every record GET still adds one', async () => {
    const patient = await registerUser(server.baseUrl, { name: 'Frequent Lister' });
    const record = await createRecordAs(patient, patient, [patient]);
    await listAll(patient.api, 10);
    await listAll(patient.api, 10);
    expect((await patient.api.get(`/records/${record.id}`)).status).toBe(200);
    expect((await patient.api.get(`/records/${record.id}`)).status).toBe(200);
    const trail = auditTrailResponseSchema.parse(
      (await patient.api.get(`/audit/records/${record.id}`)).body,
    );
    expect(trail.events.map((e) => e.action)).toEqual(['create', 'list', 'read', 'read']);
  });

  it('when two server processes store records of one reader at once, then every record is listed exactly once', async () => {
    const patient = await registerUser(server.baseUrl, { name: 'Busy Patient' });
    const other = await startTestServer({ mongoUri: dbUri(server), settings: server.settings });
    try {
      const there = new ApiClient(other.baseUrl);
      there.cookie = patient.api.cookie;
      const message = await armoredTo([patient.publicKey]);
      const ids = Array.from({ length: 40 }, () => newRecordId());
      const results = await Promise.all(
        ids.map((recordId, i) =>
          (i % 2 ? there : patient.api).post('/records', {
            recordId,
            ownerId: patient.id,
            recipients: recipientsOf(patient),
            message,
          }),
        ),
      );
      expect(results.map((r) => r.status)).toEqual(ids.map(() => 201));
      const listed = await listAll(patient.api, 7);
      expect([...listed].sort()).toEqual([...ids].sort());
    } finally {
      await other.shutdown(0);
      await other.connection.close();
    }
  });
});

/** The connection string of a test server's database (to start a second process on it). */
function dbUri(s: TestServer): string {
  const { host, port, name } = s.connection;
  return `mongodb://${host}:${port}/${name}`;
}

describe('the listing feed migration', () => {
  it('when records were stored before the feed, then the migration lists them newest change first, once', async () => {
    const uri = freshTestDatabaseUri('feed_migration');
    const before = await startTestServer({ mongoUri: uri });
    const patient = await registerUser(before.baseUrl, { name: 'Early Patient' });
    const ids = [];
    for (let i = 0; i < 4; i++) ids.push((await createRecordAs(patient, patient, [patient])).id);
    // As the records were before the feed existed.
    await before.connection.collection('records').updateMany({}, { $unset: { feedSeqs: '' } });
    await before.connection.collection('record_feed').deleteMany({});
    await before.connection.collection('record_feed_hints').deleteMany({});
    await before.shutdown(0);
    await before.connection.close();

    const after = await startTestServer({ mongoUri: uri, settings: before.settings });
    try {
      await runMigrations(after.connection, createLogger('silent'), {
        ktLogKey: before.settings.secrets.ktLogKey,
      });
      await runMigrations(after.connection, createLogger('silent'), {
        ktLogKey: before.settings.secrets.ktLogKey,
      }); // recorded as done: nothing twice
      const api = new ApiClient(after.baseUrl);
      api.cookie = patient.api.cookie;
      expect(await listAll(api)).toEqual([...ids].reverse());
      expect(await after.connection.collection('record_feed').countDocuments()).toBe(4);
    } finally {
      await after.close();
    }
  });
});

/** The model, counting the calls of `method` in `calls.n` (each is one `_id` lookup). */
function counting<T>(
  model: Model<T>,
  method: 'exists' | 'findById',
  calls: { n: number },
): Model<T> {
  return new Proxy(model, {
    get(target, key, receiver) {
      if (key === method) calls.n++;
      return Reflect.get(target, key, receiver) as unknown;
    },
  });
}

describe("the feed's end (page 1 of a list)", () => {
  /** A reader id with `n` entries stored through a feed of its own (as another process would). */
  async function readerWithEntries(n: number): Promise<string> {
    const models = createModels(server.connection);
    const writer = new ListingFeed(models.listingEntries, models.listingHints);
    const readerId = newRecordId();
    await Promise.all(Array.from({ length: n }, () => writer.add(newRecordId(), [readerId])));
    return readerId;
  }

  it('when 64 first lists of a reader arrive at once in a process, then the end is searched once for all of them, and a list after a new entry sees it', async () => {
    const readerId = await readerWithEntries(300);
    const models = createModels(server.connection);
    const lookups = { n: 0 };
    const feed = new ListingFeed(
      counting(models.listingEntries, 'exists', lookups),
      models.listingHints,
    );
    const heads = await Promise.all(Array.from({ length: 64 }, () => feed.head(readerId)));
    expect(new Set(heads)).toEqual(new Set([300]));
    // One search from the start is ~2·log2(300) ≈ 17 lookups, then one for the queued load.
    expect(lookups.n).toBeLessThan(30);

    // Loads running while an entry is stored: a head asked for after it is stored includes it.
    const during = Array.from({ length: 8 }, () => feed.head(readerId));
    const [seq] = await feed.add(newRecordId(), [readerId]);
    expect(seq).toBe(301);
    expect(await feed.head(readerId)).toBe(301);
    await Promise.all(during);
  });

  it('when the search for the end fails, then the lists that waited for the next search fail with its error, without a search of their own', async () => {
    const readerId = await readerWithEntries(3);
    const models = createModels(server.connection);
    // The database stops answering: each hint lookup fails after 300 ms, as a timeout would.
    const hints = stalled(models.listingHints, 'findById');
    const feed = new ListingFeed(models.listingEntries, hints.stalled);
    const first = feed.head(readerId);
    await delay(50);
    const waiting = Array.from({ length: 4 }, () => feed.head(readerId));
    for (const head of [first, ...waiting]) {
      await expect(head).rejects.toThrow(STALLED);
    }
    expect(hints.calls.n).toBe(1);
    // The next list searches again.
    await expect(feed.head(readerId)).rejects.toThrow(STALLED);
    expect(hints.calls.n).toBe(2);
  });

  it('when an append round fails, then the appends that waited for the next round fail with its error, without a round of their own', async () => {
    const readerId = await readerWithEntries(3);
    const models = createModels(server.connection);
    // The database stops answering inserts: each fails after 300 ms, as a timeout would.
    const entries = stalled(models.listingEntries.collection, 'insertMany');
    const feed = new ListingFeed(
      replacing(models.listingEntries, 'collection', entries.stalled),
      models.listingHints,
    );
    const first = feed.add(newRecordId(), [readerId]);
    await delay(150);
    const waiting = Array.from({ length: 4 }, () => feed.add(newRecordId(), [readerId]));
    for (const added of [first, ...waiting]) {
      await expect(added).rejects.toThrow(STALLED);
    }
    expect(entries.calls.n).toBe(1);
  });

  it('when a far end was found once, then another process starts from the stored hint', async () => {
    // 40 entries as a version before the hints stored them (no hint).
    const readerId = newRecordId();
    await server.connection.collection<{ _id: string; recordId: string }>('record_feed').insertMany(
      Array.from({ length: 40 }, (_, i) => ({
        _id: `${readerId}:${i + 1}`,
        recordId: newRecordId(),
      })),
    );
    const models = createModels(server.connection);
    expect(await new ListingFeed(models.listingEntries, models.listingHints).head(readerId)).toBe(
      40,
    );
    expect((await models.listingHints.findById(readerId).lean())?.seq).toBe(40);
    // Entries are never removed; removing them here shows that the search starts at the hint.
    await models.listingEntries.deleteMany({
      _id: { $in: Array.from({ length: 39 }, (_, i) => `${readerId}:${i + 1}`) },
    });
    const lookups = { n: 0 };
    const fresh = new ListingFeed(
      counting(models.listingEntries, 'exists', lookups),
      models.listingHints,
    );
    expect(await fresh.head(readerId)).toBe(40);
    expect(lookups.n).toBe(1);
  });

  it('when entries are appended past the hint step, then the hint follows without any list', async () => {
    const readerId = await readerWithEntries(70);
    const models = createModels(server.connection);
    expect((await models.listingHints.findById(readerId).lean())?.seq).toBe(64);
  });
});
