import { auditTrailResponseSchema } from '@medseal/contract';
import { createRecordAs } from './helpers/records';
import { registerUser } from './helpers/users';
import { startTestServer, type TestServer } from './support';

let server: TestServer;
beforeAll(async () => {
  server = await startTestServer();
});
afterAll(() => server.close());

describe('the audit chain under concurrency', () => {
  it('when many reads and lists of the same records race, then every read is recorded and each chain verifies without gaps', async () => {
    const alice = await registerUser(server.baseUrl, { name: 'Alice' });
    const records = [];
    for (let i = 0; i < 3; i++) records.push(await createRecordAs(alice, alice, [alice]));
    const reads = records.flatMap((r) => Array.from({ length: 6 }, () => alice.api.get(`/records/${r.id}`)));
    const lists = Array.from({ length: 12 }, () => alice.api.get('/records'));
    const answers = await Promise.all([...reads, ...lists]);
    expect(answers.map((a) => a.status)).toEqual(answers.map(() => 200));
    for (const r of records) {
      const trail = auditTrailResponseSchema.parse((await alice.api.get(`/audit/records/${r.id}`)).body);
      expect(trail.verification).toEqual({ status: 'intact' });
      expect(trail.events.map((e) => e.seq)).toEqual(Array.from({ length: trail.events.length }, (_, i) => i + 1));
      // A read is never lost; one whose batch outcome was unclear may be recorded twice.
      expect(trail.events.filter((e) => e.action === 'read').length).toBeGreaterThanOrEqual(6 + 12);
    }
  });
});
