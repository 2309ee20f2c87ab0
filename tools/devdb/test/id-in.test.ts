import { MongoClient, ObjectId, type Collection } from 'mongodb';
import { startDevDb, type DevDb } from '../src/index';

/** The devdb's FerretDB source fix (ferretdb-binary.ts, ID_IN_FIX): `_id $in` runs on the index. */
describe('a find by `_id $in` on the dev database', () => {
  let db: DevDb;
  let client: MongoClient;
  let docs: Collection<{ _id: string | ObjectId; n: number }>;

  beforeAll(async () => {
    db = await startDevDb({ log: () => undefined });
    client = new MongoClient(db.uri);
    docs = client.db('id_in').collection('docs');
    // Ids whose JSON text needs escaping sit among plain ones: the pushdown must be exact.
    await docs.insertMany([
      ...Array.from({ length: 2_000 }, (_, n) => ({ _id: `reader:${n}`, n })),
      { _id: 'quote"and\\slash<&>', n: -1 },
      { _id: 'line\u2028sep', n: -2 },
      { _id: new ObjectId('0123456789abcdef01234567'), n: -3 },
    ]);
  });
  afterAll(async () => {
    await client?.close();
    await db?.stop();
  });

  const wanted = [
    'reader:7',
    'reader:1999',
    'quote"and\\slash<&>',
    'line\u2028sep',
    'reader:missing',
  ];

  it('when it names strings and ObjectIDs, then it returns exactly those that exist', async () => {
    const found = await docs
      .find({ _id: { $in: [...wanted, new ObjectId('0123456789abcdef01234567')] } })
      .toArray();
    expect(found.map((d) => d.n).sort((a, b) => a - b)).toEqual([-3, -2, -1, 7, 1999]);
    await expect(docs.find({ _id: { $in: [] } }).toArray()).resolves.toEqual([]);
  });

  it('when it names mixed types, then FerretDB still answers right (filtered in Go)', async () => {
    const found = await docs.find({ _id: { $in: ['reader:3', 3 as unknown as string] } }).toArray();
    expect(found.map((d) => d.n)).toEqual([3]);
  });

  it('when the database is FerretDB, then the filter is pushed down to SQLite and uses the `_id` index', async () => {
    if (db.engine !== 'ferretdb') return; // MongoDB answers `$in` from its `_id` index anyway
    const plan = await client
      .db('id_in')
      .command({ explain: { find: 'docs', filter: { _id: { $in: wanted } } } });
    expect(plan).toMatchObject({ filterPushdown: true });
    expect(JSON.stringify(plan.queryPlanner)).toMatch(/USING INDEX/);
    const updated = await docs.updateMany(
      { _id: { $in: ['reader:1', 'reader:2'] } },
      { $set: { n: 0 } },
    );
    expect(updated.modifiedCount).toBe(2);
    const deleted = await docs.deleteMany({
      _id: { $in: ['reader:1', 'reader:2', 'reader:missing'] },
    });
    expect(deleted.deletedCount).toBe(2);
  });
});
