import { Writable } from 'node:stream';
import { createLogger } from '../src/lib/logger';
import { cacheTag } from '../src/services';
import { codeOf } from './helpers/client';
import { createRecordAs, share } from './helpers/records';
import { registerUser } from './helpers/users';
import { startTestServer, type TestServer } from './support';

/**
 * A write that other server processes must hear of (revoke, logout) fails with 503 when its
 * notice cannot be stored, instead of leaving their read caches open. The fault is real: a
 * unique index on the notices' tags, and a notice already there with the same tags, make the
 * database refuse the insert.
 */
describe('a change notice the database refuses', () => {
  let server: TestServer;
  const lines: string[] = [];
  beforeAll(async () => {
    const sink = new Writable({
      write(chunk, _enc, done) {
        lines.push(String(chunk));
        done();
      },
    });
    server = await startTestServer({ logger: createLogger('error', sink) });
    await server.connection
      .collection('cache_invalidations')
      .createIndex({ tags: 1 }, { unique: true });
  });
  afterAll(() => server.close());

  /** Makes the next notice of exactly `[tag]` a duplicate (unless an earlier write's notice already does). */
  async function refuseNotice(tag: string): Promise<void> {
    const notices = server.connection.collection<{ _id: string; tags: string[]; at: Date }>(
      'cache_invalidations',
    );
    if ((await notices.countDocuments({ tags: [tag] })) === 0)
      await notices.insertOne({ _id: `planted-${tag}`, tags: [tag], at: new Date(0) });
  }

  it('when a revoke cannot be announced, then it answers 503 and the log keeps the cause, not the ciphertext', async () => {
    const patient = await registerUser(server.baseUrl, { name: 'Revoking Patient' });
    const doctor = await registerUser(server.baseUrl, { name: 'Dr Revoked', role: 'doctor' });
    const record = await createRecordAs(patient, patient, [patient]);
    await share(patient, doctor, record);
    await refuseNotice(cacheTag.record(record.id));
    const res = await patient.api.delete(`/records/${record.id}/grants/${doctor.id}`);
    expect(res.status).toBe(503);
    expect(codeOf(res)).toBe('database-unavailable');
    const logged = lines
      .map(
        (l) =>
          JSON.parse(l) as {
            err?: { message?: string; stack?: string; cause?: { message?: string } };
          },
      )
      .find((l) => l.err);
    expect(logged?.err?.message).toMatch(/not yet known/);
    expect(logged?.err?.stack).toMatch(/publish/);
    expect(logged?.err?.message).toMatch(/duplicate key/i); // the cause, folded in by pino
    expect(lines.join('')).not.toMatch(/PGP MESSAGE/);
  });

  it('when a logout cannot be announced, then it answers 503', async () => {
    const user = await registerUser(server.baseUrl, { name: 'Leaving User' });
    await refuseNotice(cacheTag.user(user.id));
    const res = await user.api.post('/auth/logout');
    expect(res.status).toBe(503);
    expect(codeOf(res)).toBe('database-unavailable');
  });
});
