import { Double, Long, MongoClient, ObjectId, type Collection } from 'mongodb';
import { startDevDb, type DevDb } from '../src/index';

/**
 * The devdb's FerretDB source fix (ferretdb-binary.ts, ID_PUSHDOWN_FIX): `_id` equality and
 * `_id $in` of strings, ObjectIDs and numbers, alone or beside other conditions, run on the index.
 */
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

  it('when it names strings and numbers, then it finds each by its own type', async () => {
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

  it('when the `_id` comes with other conditions, then those still apply to the documents it names', async () => {
    await expect(docs.find({ _id: 'reader:7', n: 7 }).toArray()).resolves.toEqual([
      { _id: 'reader:7', n: 7 },
    ]);
    await expect(docs.find({ _id: 'reader:7', n: 8 }).toArray()).resolves.toEqual([]);
    const some = await docs
      .find({ n: { $gte: 1998 }, _id: { $in: ['reader:5', 'reader:1998', 'reader:1999'] } })
      .toArray();
    expect(some.map((d) => d.n).sort()).toEqual([1998, 1999]);
    await expect(docs.countDocuments({ _id: 'reader:9', n: { $lt: 0 } })).resolves.toBe(0);
    // A compare-and-set: only the first of two updates expecting n = 10 applies.
    expect(
      (await docs.updateOne({ _id: 'reader:10', n: 10 }, { $set: { n: 11 } })).modifiedCount,
    ).toBe(1);
    expect(
      (await docs.updateOne({ _id: 'reader:10', n: 10 }, { $set: { n: 12 } })).modifiedCount,
    ).toBe(0);
    expect((await docs.findOneAndUpdate({ _id: 'reader:10', n: 11 }, { $set: { n: 10 } }))?.n).toBe(
      11,
    );
    expect((await docs.deleteOne({ _id: 'reader:11', n: 0 })).deletedCount).toBe(0);
    expect((await docs.deleteOne({ _id: 'reader:11', n: 11 })).deletedCount).toBe(1);
  });

  it('when the database is FerretDB and the `_id` comes with other conditions, then the `_id` is still looked up in the index', async () => {
    if (db.engine !== 'ferretdb') return;
    for (const filter of [
      { _id: 'reader:7', n: 7 },
      { n: 7, _id: { $in: wanted } },
    ]) {
      const plan = await client.db('id_in').command({ explain: { find: 'docs', filter } });
      expect(plan).toMatchObject({ filterPushdown: true });
      expect(JSON.stringify(plan.queryPlanner)).toMatch(/USING INDEX/);
    }
    // Without an `_id` condition, the whole table (DESIGN §9).
    const scan = await client.db('id_in').command({ explain: { find: 'docs', filter: { n: 7 } } });
    expect(scan).toMatchObject({ filterPushdown: false });
  });

  it('when `_id`s are numbers, then a lookup by any numeric type finds exactly the equal ones, from the index', async () => {
    const numbers = client.db('id_in').collection<{ _id: unknown; n: string }>('numbers');
    await numbers.insertMany([
      { _id: 12, n: 'int32 12' },
      { _id: new Double(12.5), n: 'double 12.5' },
      { _id: Long.fromString('9007199254740993'), n: 'int64 2^53+1' },
      { _id: new Double(-0), n: 'double -0' },
      { _id: '12', n: 'string 12' },
      ...Array.from({ length: 500 }, (_, i) => ({ _id: 1000 + i, n: `int32 ${1000 + i}` })),
    ]);
    const found = async (filter: object) =>
      (await numbers.find(filter).toArray()).map((d) => d.n).sort();
    expect(await found({ _id: new Double(12) })).toEqual(['int32 12']);
    expect(await found({ _id: Long.fromNumber(12) })).toEqual(['int32 12']);
    expect(await found({ _id: 12.5 })).toEqual(['double 12.5']);
    expect(await found({ _id: Long.fromString('9007199254740993') })).toEqual(['int64 2^53+1']);
    expect(await found({ _id: new Double(9007199254740992) })).toEqual([]);
    expect(await found({ _id: 0 })).toEqual(['double -0']);
    expect(await found({ _id: { $in: [12, '12', 1499, 7] } })).toEqual([
      'int32 12',
      'int32 1499',
      'string 12',
    ]);
    if (db.engine !== 'ferretdb') return;
    for (const filter of [
      { _id: 1200 },
      { _id: { $in: [0, 12.5, 1201] } },
      { _id: Long.fromNumber(1202), n: 'x' },
    ]) {
      const plan = await client.db('id_in').command({ explain: { find: 'numbers', filter } });
      expect(plan).toMatchObject({ filterPushdown: true });
      expect(JSON.stringify(plan.queryPlanner)).toMatch(/USING INDEX/);
    }
  });
});
