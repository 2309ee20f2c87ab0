import { Schema, type Connection } from 'mongoose';
import { freshTestDatabaseUri } from '@medseal/devdb/test-database';
import { connectDb } from '../src/lib/db';

interface Probe {
  email: string;
  note: string;
}

describe('a Mongoose model on the real dev database', () => {
  let connection: Connection;

  beforeAll(async () => {
    connection = await connectDb(freshTestDatabaseUri('roundtrip'));
  });
  afterAll(async () => {
    await connection.dropDatabase();
    await connection.close();
  });

  it('when a document is inserted, then it reads back and a duplicate unique key is refused with E11000', async () => {
    const schema = new Schema<Probe>({
      email: { type: String, required: true, unique: true },
      note: { type: String, required: true },
    });
    const Probe = connection.model<Probe>('Probe', schema);
    await Probe.init(); // builds the unique index before the duplicate insert

    await Probe.create({ email: 'a@example.org', note: 'first' });
    await expect(Probe.create({ email: 'a@example.org', note: 'second' })).rejects.toMatchObject({
      code: 11000,
    });

    const stored = await Probe.find({ email: 'a@example.org' }).lean();
    expect(stored).toHaveLength(1);
    expect(stored[0]?.note).toBe('first');
  });
});
