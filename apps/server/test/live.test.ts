import { LIVE_RECORDS_EVENT, liveRecordsEventSchema } from '@medseal/contract';
import { createRecordAs, grantBody, share } from './helpers/records';
import { registerUser, type TestUser } from './helpers/users';
import { startTestServer, type TestServer } from './support';
import { giveConsent } from './helpers/consents';

let server: TestServer;
let patient: TestUser;
let doctor: TestUser;
let other: TestUser;
beforeAll(async () => {
  server = await startTestServer();
  patient = await registerUser(server.baseUrl, { name: 'Lia Patient' });
  doctor = await registerUser(server.baseUrl, { name: 'Dr Live', role: 'doctor' });
  await giveConsent(patient, doctor);
  other = await registerUser(server.baseUrl, { name: 'Otto Other' });
});
afterAll(() => server.close());

/** An open `GET /live` stream: the events read so far, by name. */
async function openLive(user: TestUser) {
  const abort = new AbortController();
  const res = await fetch(`${server.baseUrl}/api/live`, {
    headers: { cookie: user.api.cookie ?? '' },
    signal: abort.signal,
  });
  const events: { event: string; data: unknown }[] = [];
  const reading = (async () => {
    if (!res.body) return;
    const decoder = new TextDecoder();
    let buffer = '';
    try {
      for await (const chunk of res.body) {
        buffer += decoder.decode(chunk as Uint8Array, { stream: true });
        let end: number;
        while ((end = buffer.indexOf('\n\n')) >= 0) {
          const block = buffer.slice(0, end);
          buffer = buffer.slice(end + 2);
          const event = /^event: (.*)$/m.exec(block)?.[1];
          const data = /^data: (.*)$/m.exec(block)?.[1];
          if (event && data) events.push({ event, data: JSON.parse(data) });
        }
      }
    } catch {
      // aborted by close()
    }
  })();
  return {
    res,
    events,
    /** Waits until an event names `recordId`. */
    async named(recordId: string): Promise<void> {
      const until = Date.now() + 10_000;
      while (
        !events.some(
          (e) =>
            e.event === LIVE_RECORDS_EVENT &&
            liveRecordsEventSchema.parse(e.data).recordIds.includes(recordId),
        )
      ) {
        if (Date.now() > until)
          throw new Error(`no live event named ${recordId}; got ${JSON.stringify(events)}`);
        await new Promise((r) => setTimeout(r, 20));
      }
    },
    async close() {
      abort.abort();
      await reading;
    },
  };
}

describe('GET /live (server-sent events for open tabs)', () => {
  it('when there is no session, then 401 and no stream', async () => {
    const res = await fetch(`${server.baseUrl}/api/live`);
    expect(res.status).toBe(401);
    expect(res.headers.get('content-type')).toContain('application/json');
  });

  it('when a doctor writes a record for a patient, then the patient’s open stream names it (ids only) and an unrelated user’s does not', async () => {
    const patientLive = await openLive(patient);
    const otherLive = await openLive(other);
    try {
      expect(patientLive.res.status).toBe(200);
      expect(patientLive.res.headers.get('content-type')).toBe('text/event-stream; charset=utf-8');
      expect(patientLive.res.headers.get('cache-control')).toContain('no-store');
      const record = await createRecordAs(doctor, patient, [patient, doctor]);
      await patientLive.named(record.id);
      expect(Object.keys(patientLive.events[0]?.data as object)).toEqual(['recordIds']);
      // The other stream had as long to hear of it.
      await new Promise((r) => setTimeout(r, 300));
      expect(otherLive.events).toEqual([]);
    } finally {
      await patientLive.close();
      await otherLive.close();
    }
  });

  it('when a record is shared with someone, then their stream names it once', async () => {
    const record = await createRecordAs(patient, patient, [patient]);
    const doctorLive = await openLive(doctor);
    try {
      await share(patient, doctor, record);
      await doctorLive.named(record.id);
      await new Promise((r) => setTimeout(r, 300));
      // Written through this process: applied at once, and not again when the feed's poll reads it back.
      expect(
        doctorLive.events.filter((e) =>
          liveRecordsEventSchema.parse(e.data).recordIds.includes(record.id),
        ),
      ).toHaveLength(1);
    } finally {
      await doctorLive.close();
    }
  });

  it('when records are shared in one batch, then each stream names only the records its user reads', async () => {
    // Otto already reads `known`; `unknown` is hers alone until the batch shares it.
    const known = await createRecordAs(patient, patient, [patient, other]);
    const unknown = await createRecordAs(patient, patient, [patient]);
    const otherLive = await openLive(other);
    const doctorLive = await openLive(doctor);
    try {
      const grants = await Promise.all(
        [known, unknown].map(async (r) => ({
          recordId: r.id,
          ...(await grantBody(patient, doctor, r)),
        })),
      );
      expect((await patient.api.post('/grants', { grants })).status).toBe(200);
      await doctorLive.named(known.id);
      await doctorLive.named(unknown.id);
      await otherLive.named(known.id);
      // Both went out in one notice; Otto's stream had as long to hear of the other record.
      await new Promise((r) => setTimeout(r, 300));
      const named = otherLive.events.flatMap((e) => liveRecordsEventSchema.parse(e.data).recordIds);
      expect(named).not.toContain(unknown.id);
    } finally {
      await otherLive.close();
      await doctorLive.close();
    }
  });
});
