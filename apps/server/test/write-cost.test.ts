import { freshTestDatabaseUri } from '@medseal/devdb/test-database';
import {
  InvalidationFeed,
  invalidationModel,
  invalidationStartModel,
} from '../src/lib/invalidations';
import { connectDb } from '../src/lib/db';
import { createLogger } from '../src/lib/logger';
import { commandsSentDuring, monitored, type SentCommand } from './helpers/commands';
import { createRecordAs } from './helpers/records';
import { registerUser } from './helpers/users';
import { startTestServer, type TestServer } from './support';

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
  it('when 64 notices are published at once, then they share the reads of where the kept events start (at most two per insert), and every notice is stored', async () => {
    // Its own connection (the server's feed polls on the server's), and not started: no poll
    // runs beside the publishes.
    const connection = await connectDb(monitored(freshTestDatabaseUri('write_cost_feed')));
    try {
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
      expect(count(sent, 'find', 'cache_invalidation_starts')).toBeLessThanOrEqual(2 * inserts);
      const stored = await invalidationModel(connection).find({}, { tags: 1 }).lean();
      expect(stored.flatMap((d) => d.tags).sort()).toEqual([...tags].sort());
    } finally {
      await connection.dropDatabase();
      await connection.close();
    }
  });
});
