import { freshTestDatabaseUri } from '@medseal/devdb/test-database';
import {
  InvalidationFeed,
  invalidationModel,
  invalidationStartModel,
} from '../src/lib/invalidations';
import { isDuplicateKey } from '../src/lib/db';
import { GroupInserts } from '../src/lib/store';
import mongoose, { type Connection, type Model, type mongo } from 'mongoose';
import { recordVersionModel, type RecordVersionDoc } from '../src/components/records/model';
import { storeNewRecord } from '../src/components/records/use-cases';
import { createServices } from '../src/services';
import { createLogger } from '../src/lib/logger';
import { commandsSentDuring, monitored, type SentCommand } from './helpers/commands';
import { createRecordAs } from './helpers/records';
import { registerUser } from './helpers/users';
import { startTestServer, testSettings, type TestServer } from './support';

/**
 * What writes ask of the database (issue 11: a record POST ran at 0.42–0.45 of the database's
 * own limit for the same inserts; the server's CPU went to the driver and Mongoose, per command).
 */
let server: TestServer;
beforeAll(async () => {
  server = await startTestServer({ mongoUri: monitored(freshTestDatabaseUri('write_cost')) });
});
afterAll(() => server.close());

const count = (sent: SentCommand[], command: string, collection: string) =>
  sent.filter((c) => c.command === command && c.collection === collection).length;

/**
 * Runs `test` with a connection of its own to a fresh database (no server polling on it).
 * Without the server's 2.5 s operation timeout: these tests count commands, and on a machine
 * loaded by the whole CI a burst on this new connection's cold pool made one lookup wait out
 * its 2.5 s for a connection (the driver opens two at a time; CI, 2026-12-07). A server's
 * pool is warm; what it answers when the database is slow is tested in fault.test.ts.
 */
async function onOwnConnection(
  name: string,
  test: (connection: Connection) => Promise<void>,
): Promise<void> {
  const connection = await mongoose
    .createConnection(monitored(freshTestDatabaseUri(name)), { bufferCommands: false })
    .asPromise();
  try {
    await test(connection);
  } finally {
    await connection.dropDatabase();
    await connection.close();
  }
}

describe('what a record create reads', () => {
  it("when an author creates a second record, then her key is not read again (a user's key never changes)", async () => {
    const patient = await registerUser(server.baseUrl, { name: 'Pat Keys' });
    await createRecordAs(patient, patient, [patient]);
    const sent = await commandsSentDuring(server.connection, async () => {
      await createRecordAs(patient, patient, [patient]);
    });
    expect(count(sent, 'insert', 'records')).toBe(1);
    expect(count(sent, 'find', 'users')).toBe(0);
  });
});

describe('the invalidation notices of a burst of writes', () => {
  it('when 64 notices are published at once, then they share the reads of where the kept events start (at most two per round of inserts, and two for the first look at the end), and every notice is stored', async () => {
    // Its own connection (the server's feed polls on the server's), and not started: no poll
    // runs beside the publishes.
    await onOwnConnection('write_cost_feed', async (connection) => {
      const feed = new InvalidationFeed(
        invalidationModel(connection),
        invalidationStartModel(connection),
        createLogger('silent'),
      );
      const tags = Array.from({ length: 64 }, (_, i) => `burst:${i}`);
      const sent = await commandsSentDuring(connection, async () => {
        await Promise.all(tags.map((tag) => feed.publish([tag])));
      });
      const inserts = count(sent, 'insert', 'cache_invalidations');
      expect(inserts).toBeGreaterThan(0);
      // The notices of one round read the start once, or twice when none was running as they
      // came (the first starts one; those after it may not take a read started before their call,
      // lib/shared-reads.ts). Finding the chain's end for the first round reads it twice more.
      expect(count(sent, 'find', 'cache_invalidation_starts')).toBeLessThanOrEqual(2 * inserts + 2);
      const stored = await invalidationModel(connection).find({}, { tags: 1 }).lean();
      expect(stored.flatMap((d) => d.tags).sort()).toEqual([...tags].sort());
    });
  });
});

describe('new documents inserted with group commit', () => {
  const versionInserts = (versions: Model<RecordVersionDoc>, maxChars: number) =>
    new GroupInserts(versions.collection as unknown as mongo.Collection<RecordVersionDoc>, {
      charsOf: (d) => d.message.length,
      maxChars,
    });
  const versionOf = (recordId: string, message = 'm') => ({
    _id: `${recordId}:1`,
    recordId,
    version: 1,
    authorId: 'author',
    recipients: [],
    message,
    size: message.length,
    createdAt: new Date(),
  });

  it('when 64 documents are given at once and one of them has a taken id, then they go in 3 inserts, only that one is refused and the others are stored', async () => {
    await onOwnConnection('write_cost_group', async (connection) => {
      const versions = recordVersionModel(connection);
      await versions.create(versionOf('taken'));
      const inserts = versionInserts(versions, 1 << 20);
      const ids = Array.from({ length: 64 }, (_, i) => (i === 20 ? 'taken' : `r${i}`));
      let outcomes: PromiseSettledResult<void>[] = [];
      const sent = await commandsSentDuring(connection, async () => {
        outcomes = await Promise.allSettled(ids.map((id) => inserts.insert([versionOf(id)])));
      });
      // The first alone, the 63 given meanwhile together up to the taken id, then the rest.
      expect(count(sent, 'insert', 'record_versions')).toBe(3);
      const refused = outcomes.flatMap((o, i) => (o.status === 'rejected' ? [[i, o.reason]] : []));
      expect(refused).toHaveLength(1);
      expect(refused[0]?.[0]).toBe(20);
      expect(isDuplicateKey(refused[0]?.[1])).toBe(true);
      const stored = await versions.find({}, { recordId: 1 }).lean();
      expect(stored.map((v) => v.recordId).sort()).toEqual([...new Set(ids)].sort());
    });
  });

  it('when the documents given at once hold more than a round may carry, then they go in several rounds, and all are stored', async () => {
    await onOwnConnection('write_cost_weight', async (connection) => {
      const versions = recordVersionModel(connection);
      const inserts = versionInserts(versions, 250);
      const ids = Array.from({ length: 9 }, (_, i) => `w${i}`);
      const sent = await commandsSentDuring(connection, async () => {
        await Promise.all(ids.map((id) => inserts.insert([versionOf(id, 'x'.repeat(100))])));
      });
      // The first alone, then rounds of two (a third would pass 250).
      expect(count(sent, 'insert', 'record_versions')).toBe(5);
      expect(await versions.countDocuments()).toBe(9);
    });
  });

  it('when 64 records are created at once, then their records and versions 1 share a few inserts, and each is stored whole', async () => {
    await onOwnConnection('write_cost_creates', async (connection) => {
      const s = createServices(
        connection,
        createLogger('silent'),
        testSettings({ readCacheTtlMs: 0 }),
      );
      const ids = Array.from({ length: 64 }, (_, i) => `c${i}`);
      const sent = await commandsSentDuring(connection, async () => {
        await Promise.all(
          ids.map((recordId) =>
            storeNewRecord(s, {
              recordId,
              ownerId: `u${recordId}`,
              authorId: `u${recordId}`,
              recipients: [{ userId: `u${recordId}`, fingerprint: 'f'.repeat(40) }],
              message: `m ${recordId}`,
            }),
          ),
        );
      });
      // Each its own owner, so the feed entries go in two rounds (the first alone, then the 63
      // given meanwhile) with no feed hint between: the records come in those two waves. A wave
      // that finds no round in flight goes as its first alone and the rest together, so the
      // records take at most 3 inserts, and the versions, which come in the waves the records'
      // rounds made, at most 4. Before, each create had its own two.
      expect(count(sent, 'insert', 'records')).toBeLessThanOrEqual(3);
      expect(count(sent, 'insert', 'record_versions')).toBeLessThanOrEqual(4);
      const versions = await s.models.versions.find({}, { recordId: 1, message: 1 }).lean();
      expect(versions.map((v) => [v.recordId, v.message]).sort()).toEqual(
        ids.map((id) => [id, `m ${id}`]).sort(),
      );
      expect(await s.models.records.countDocuments()).toBe(64);
    });
  });
});
