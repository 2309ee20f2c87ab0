import { auditTrailResponseSchema } from '@medseal/contract';
import { signAuditCheckpoint } from '@medseal/crypto';
import { freshTestDatabaseUri } from '@medseal/devdb/test-database';
import { ApiClient, codeOf } from './helpers/client';
import { createRecordAs } from './helpers/records';
import { registerUser } from './helpers/users';
import { startTestServer, type TestServer } from './support';

let server: TestServer;
beforeAll(async () => {
  server = await startTestServer();
});
afterAll(() => server.close());

describe('the audit chain under concurrency', () => {
  it('when many reads and lists of the same records race, then every read is recorded (lists once per window) and each chain verifies without gaps', async () => {
    const alice = await registerUser(server.baseUrl, { name: 'Alice' });
    const records = [];
    for (let i = 0; i < 3; i++) records.push(await createRecordAs(alice, alice, [alice]));
    const reads = records.flatMap((r) =>
      Array.from({ length: 6 }, () => alice.api.get(`/records/${r.id}`)),
    );
    const lists = Array.from({ length: 12 }, () => alice.api.get('/records'));
    const answers = await Promise.all([...reads, ...lists]);
    expect(answers.map((a) => a.status)).toEqual(answers.map(() => 200));
    for (const r of records) {
      const trail = auditTrailResponseSchema.parse(
        (await alice.api.get(`/audit/records/${r.id}`)).body,
      );
      expect(trail.verification).toEqual({ status: 'intact' });
      expect(trail.events.map((e) => e.seq)).toEqual(
        Array.from({ length: trail.events.length }, (_, i) => i + 1),
      );
      // 6 GETs; the 12 lists as one list event: a list read is written once per LIST_READ_WINDOW_MS.
      expect(trail.events.filter((e) => e.action === 'read').length).toBe(6);
      expect(trail.events.filter((e) => e.action === 'list').length).toBe(1);
    }
  });
});

describe('the audit chain written by two server processes', () => {
  it('when two servers on one database record reads of the same records at once, then no read is lost and each chain verifies', async () => {
    const uri = freshTestDatabaseUri('audit-two');
    const first = await startTestServer({ mongoUri: uri });
    const second = await startTestServer({ mongoUri: uri });
    try {
      const alice = await registerUser(first.baseUrl, { name: 'Alice' });
      const onSecond = new ApiClient(second.baseUrl);
      onSecond.cookie = alice.api.cookie;
      const records = [];
      for (let i = 0; i < 3; i++) records.push(await createRecordAs(alice, alice, [alice]));
      // The second server starts cold on chains the first one wrote (it finds their ends by `_id` lookups).
      for (let i = 0; i < 20; i++)
        expect((await alice.api.get(`/records/${records[0]?.id}`)).status).toBe(200);
      const reads = records.flatMap((r) =>
        Array.from({ length: 8 }, (_, i) => (i % 2 ? alice.api : onSecond).get(`/records/${r.id}`)),
      );
      const lists = Array.from({ length: 8 }, (_, i) =>
        (i % 2 ? alice.api : onSecond).get('/records'),
      );
      const answers = await Promise.all([...reads, ...lists]);
      expect(answers.map((a) => a.status)).toEqual(answers.map(() => 200));
      for (const [i, r] of records.entries()) {
        const trail = auditTrailResponseSchema.parse(
          (await onSecond.get(`/audit/records/${r.id}`)).body,
        );
        expect(trail.verification).toEqual({ status: 'intact' });
        expect(trail.events.map((e) => e.seq)).toEqual(
          Array.from({ length: trail.events.length }, (_, j) => j + 1),
        );
        // Every read exactly once: a lost position is retried, never written twice. The 8 lists
        // count once per server process (a list read is written once per LIST_READ_WINDOW_MS).
        expect(trail.events.filter((e) => e.action === 'read').length).toBe(8 + (i === 0 ? 20 : 0));
        expect(trail.events.filter((e) => e.action === 'list').length).toBe(2);
      }
    } finally {
      await second.close();
      await first.close();
    }
  });
});

describe('the owner’s signed checkpoints of a trail', () => {
  it('when the owner stores checkpoints, then only her signature over this trail’s own hash at that length is kept, and never replaced by a shorter one', async () => {
    const alice = await registerUser(server.baseUrl, { name: 'Alice' });
    const mallory = await registerUser(server.baseUrl, { name: 'Mallory' });
    const record = await createRecordAs(alice, alice, [alice]);
    const other = await createRecordAs(alice, alice, [alice]);
    expect((await alice.api.get(`/records/${record.id}`)).status).toBe(200);
    const trail = async () =>
      auditTrailResponseSchema.parse((await alice.api.get(`/audit/records/${record.id}`)).body);
    const before = await trail();
    expect(before.checkpoint).toBeNull();
    const [first, second] = before.events;
    if (!first || !second) throw new Error('expected a create and a read');
    const put = (signedCheckpoint: string) =>
      alice.api.put(`/audit/records/${record.id}/checkpoint`, { signedCheckpoint });
    const sign = (
      length: number,
      head: string,
      opts: { recordId?: string; key?: typeof alice.key } = {},
    ) =>
      signAuditCheckpoint({
        checkpoint: { recordId: opts.recordId ?? record.id, length, head },
        key: (opts.key ?? alice.key).privateKey,
      });

    const refused = [
      [await sign(2, second.hash, { key: mallory.key }), 400, 'bad-checkpoint'],
      [await sign(2, second.hash, { recordId: other.id }), 400, 'bad-checkpoint'],
      ['-----BEGIN PGP MESSAGE-----', 400, 'bad-checkpoint'],
      [await sign(2, first.hash), 409, 'checkpoint-mismatch'],
      [await sign(before.events.length + 1, second.hash), 409, 'checkpoint-mismatch'],
    ] as const;
    for (const [body, status, code] of refused) {
      const res = await put(body);
      expect([res.status, codeOf(res)]).toEqual([status, code]);
    }
    expect((await trail()).checkpoint).toBeNull();

    const atTwo = await sign(2, second.hash);
    expect((await put(atTwo)).status).toBe(204);
    expect((await put(atTwo)).status).toBe(204);
    expect((await trail()).checkpoint).toBe(atTwo);
    expect(codeOf(await put(await sign(1, first.hash)))).toBe('checkpoint-older');
    expect((await alice.api.get(`/records/${record.id}`)).status).toBe(200);
    const longer = await trail();
    const head = longer.events.at(-1)?.hash ?? '';
    const atEnd = await sign(longer.events.length, head);
    expect((await put(atEnd)).status).toBe(204);
    expect((await trail()).checkpoint).toBe(atEnd);
  });
});
