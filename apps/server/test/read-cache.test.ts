import { setTimeout as sleep } from 'node:timers/promises';
import { recordSchema } from '@medseal/contract';
import { freshTestDatabaseUri } from '@medseal/devdb/test-database';
import { ReadCache } from '../src/lib/read-cache';
import { ApiClient, type ApiResponse } from './helpers/client';
import { createRecordAs, recipientsOf, sealFor, share } from './helpers/records';
import { registerUser, type TestUser } from './helpers/users';
import { startTestServer, testSettings, type TestServer } from './support';

// Two server processes on one database, each with its read cache (10 s lifetime). A change
// made through one must reach the other through the invalidation feed (about 0.1 s), far
// sooner than the cache lifetime would.
const FEED_BOUND_MS = 2_000;
/** Long enough for the cache lifetime to have done it (to tell "late" from "never"). */
const GIVE_UP_MS = testSettings().readCacheTtlMs + 5_000;

let first: TestServer;
let second: TestServer;
let patient: TestUser;
let doctor: TestUser;
/** The doctor's session, used on the second server. */
let doctorOnSecond: ApiClient;

beforeAll(async () => {
  const uri = freshTestDatabaseUri('read-cache');
  first = await startTestServer({ mongoUri: uri });
  second = await startTestServer({ mongoUri: uri });
  patient = await registerUser(first.baseUrl, { name: 'Pat' });
  doctor = await registerUser(first.baseUrl, { name: 'Dr Who', role: 'doctor' });
  doctorOnSecond = new ApiClient(second.baseUrl);
  doctorOnSecond.cookie = doctor.api.cookie;
});

afterAll(async () => {
  await second.close();
  await first.close();
});

/** Asks until `done` holds for the answer; returns how long that took. */
async function until(
  ask: () => Promise<ApiResponse>,
  done: (res: ApiResponse) => boolean,
): Promise<number> {
  const start = Date.now();
  for (;;) {
    if (done(await ask())) return Date.now() - start;
    if (Date.now() - start > GIVE_UP_MS)
      throw new Error('the change never reached the other server');
    await sleep(20);
  }
}

describe('the read cache of two servers on one database', () => {
  it('when a record shared with the doctor is revoked through one server, then the other stops serving it to the doctor within the feed interval', async () => {
    const record = await createRecordAs(patient, patient, [patient]);
    await share(patient, doctor, record);
    // Read (and so cached) on the second server, session and record alike.
    for (let i = 0; i < 3; i++)
      expect((await doctorOnSecond.get(`/records/${record.id}`)).status).toBe(200);
    expect((await patient.api.delete(`/records/${record.id}/grants/${doctor.id}`)).status).toBe(
      204,
    );
    expect((await doctor.api.get(`/records/${record.id}`)).status).toBe(404); // the revoking server: at once
    expect(
      await until(
        () => doctorOnSecond.get(`/records/${record.id}`),
        (res) => res.status === 404,
      ),
    ).toBeLessThan(FEED_BOUND_MS);
  });

  it('when the owner updates a record through one server, then the other serves the new version within the feed interval', async () => {
    const record = await createRecordAs(patient, patient, [patient, doctor]);
    expect(
      recordSchema.parse((await doctorOnSecond.get(`/records/${record.id}`)).body).version,
    ).toBe(1);
    const message = await sealFor({
      recordId: record.id,
      version: 2,
      owner: patient,
      author: patient,
      readers: [patient, doctor],
    });
    expect(
      (
        await patient.api.put(`/records/${record.id}`, {
          baseVersion: 1,
          recipients: recipientsOf(patient, doctor),
          message,
        })
      ).status,
    ).toBe(200);
    const version = (res: ApiResponse) =>
      res.status === 200 ? recordSchema.parse(res.body).version : 0;
    expect(
      await until(
        () => doctorOnSecond.get(`/records/${record.id}`),
        (res) => version(res) === 2,
      ),
    ).toBeLessThan(FEED_BOUND_MS);
  });

  it('when a user logs out through one server, then the other refuses the same cookie within the feed interval', async () => {
    const user = await registerUser(first.baseUrl, { name: 'Leaving' });
    const onSecond = new ApiClient(second.baseUrl);
    onSecond.cookie = user.api.cookie;
    expect((await onSecond.get('/records')).status).toBe(200);
    expect((await user.api.post('/auth/logout')).status).toBe(204);
    expect(
      await until(
        () => onSecond.get('/records'),
        (res) => res.status === 401,
      ),
    ).toBeLessThan(FEED_BOUND_MS);
  });
});

describe('ReadCache', () => {
  interface Doc {
    id: string;
    owner: string;
    n: number;
  }
  const make = (trusted = () => true) =>
    new ReadCache<Doc>(
      { max: 100, ttlMs: 60_000, tagsOf: (d) => [`doc:${d.id}`, `owner:${d.owner}`] },
      trusted,
    );
  let loads = 0;
  const loader = (doc: Doc) => async () => {
    loads++;
    await sleep(5);
    return { ...doc };
  };
  beforeEach(() => {
    loads = 0;
  });

  it('when the same key is read twice, then it is loaded once; when one of its tags is invalidated, then it is loaded again', async () => {
    const cache = make();
    const a = { id: 'a', owner: 'u1', n: 1 };
    await cache.get('a', loader(a));
    await cache.get('a', loader(a));
    expect(loads).toBe(1);
    cache.invalidate(['owner:u1']);
    expect(await cache.get('a', loader({ ...a, n: 2 }))).toMatchObject({ n: 2 });
    expect(loads).toBe(2);
  });

  it('when an invalidation arrives while a load is in flight, then that answer is not kept and a later reader does not join it', async () => {
    const cache = make();
    const old = cache.get('a', loader({ id: 'a', owner: 'u1', n: 1 }));
    cache.invalidate(['doc:a']);
    const fresh = cache.get('a', loader({ id: 'a', owner: 'u1', n: 2 }));
    expect(await old).toMatchObject({ n: 1 });
    expect(await fresh).toMatchObject({ n: 2 });
    expect(await cache.get('a', loader({ id: 'a', owner: 'u1', n: 3 }))).toMatchObject({ n: 2 });
    expect(loads).toBe(2);
  });

  it('when the feed is not current, then every read goes to the loader', async () => {
    const cache = make(() => false);
    for (let i = 0; i < 3; i++) await cache.get('a', loader({ id: 'a', owner: 'u1', n: i }));
    expect(loads).toBe(3);
  });
});
