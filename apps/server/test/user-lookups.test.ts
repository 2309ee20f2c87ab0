import type { DirectoryResponse } from '@medseal/contract';
import { freshTestDatabaseUri } from '@medseal/devdb/test-database';
import { migrateUserLookups } from '../src/components/users/lookups';
import { createLogger } from '../src/lib/logger';
import { createModels } from '../src/services';
import { ApiClient } from './helpers/client';
import { collectionScans, filtersSentDuring, monitored, type SentFilter } from './helpers/commands';
import { randomSecret, registerUser, registrationFor, type TestUser } from './helpers/users';
import { startTestServer, type TestServer } from './support';

/**
 * A user is found by email or key through `user_lookups`, addressed by `_id` (users/lookups.ts),
 * not by a query on `users`, which FerretDB v1 answers by reading every user (DESIGN §9); the
 * insert of a lookup's new `_id` is what takes an email at registration.
 */
let server: TestServer;
let models: ReturnType<typeof createModels>;
let alice: TestUser;
let bob: TestUser;
beforeAll(async () => {
  server = await startTestServer({ mongoUri: monitored(freshTestDatabaseUri('user_lookups')) });
  models = createModels(server.connection);
  alice = await registerUser(server.baseUrl, { name: 'Alice Lookup' });
  bob = await registerUser(server.baseUrl, { name: 'Bob Lookup', role: 'doctor' });
}, 120_000);
afterAll(() => server.close());

const login = (email: string, loginSecret: string) =>
  new ApiClient(server.baseUrl).post('/auth/login', { email, loginSecret });
const usersAndLookups = (filters: SentFilter[]) =>
  filters.filter((f) => f.collection === 'users' || f.collection === 'user_lookups');
/** What a request asks of the users: the commands, in order, without their values. */
const shape = (filters: SentFilter[]) =>
  usersAndLookups(filters).map(
    (f) => `${f.command} ${f.collection} ${Object.keys(f.filter).join(',')}`,
  );

describe('finding users by email and key', () => {
  it('when someone registers, logs in, gets the login parameters, starts a recovery and is found by email, then users are read by `_id` alone', async () => {
    let registered: TestUser | undefined;
    const filters = await filtersSentDuring(server.connection, async () => {
      registered = await registerUser(server.baseUrl, { name: 'Carol Lookup' });
      const carol = registered;
      expect((await login(carol.email, carol.loginSecret)).status).toBe(200);
      expect((await login(carol.email, randomSecret())).status).toBe(401);
      expect(
        (
          await new ApiClient(server.baseUrl).get(
            `/auth/params?email=${encodeURIComponent(carol.email)}`,
          )
        ).status,
      ).toBe(200);
      expect(
        (await new ApiClient(server.baseUrl).post('/auth/recovery/start', { email: carol.email }))
          .status,
      ).toBe(200);
      const found = await alice.api.get<DirectoryResponse>(
        `/users?email=${encodeURIComponent(carol.email)}`,
      );
      expect(found.body.users.map((u) => u.id)).toEqual([carol.id]);
    });
    expect(usersAndLookups(filters).map((f) => f.collection)).toEqual(
      expect.arrayContaining(['users', 'user_lookups']),
    );
    expect(await collectionScans(server.connection, usersAndLookups(filters))).toEqual([]);
  });

  it('when logging in to a known and an unknown email, then both send the same reads, by `_id`', async () => {
    const known = await filtersSentDuring(server.connection, async () => {
      expect((await login(alice.email, randomSecret())).status).toBe(401);
    });
    const unknown = await filtersSentDuring(server.connection, async () => {
      expect((await login('nobody-lookup@example.org', randomSecret())).status).toBe(401);
    });
    expect(shape(unknown)).toEqual(shape(known));
    expect(shape(known)).toEqual(['find user_lookups _id', 'find users _id']);
    expect(
      await collectionScans(server.connection, usersAndLookups([...known, ...unknown])),
    ).toEqual([]);
  });

  it('when two register with one email at once, then exactly one gets 201 and the other 409 `email-taken`, and nothing of the loser is left', async () => {
    for (let round = 0; round < 3; round++) {
      const email = `race-${round}-${Date.now()}@example.org`;
      const regs = await Promise.all([
        registrationFor({ name: 'Racer One', email }),
        registrationFor({ name: 'Racer Two', email }),
      ]);
      const answers = await Promise.all(
        regs.map((r) =>
          new ApiClient(server.baseUrl).post<{ user: { id: string }; error: { code: string } }>(
            '/auth/register',
            r.body,
          ),
        ),
      );
      expect(answers.map((a) => a.status).sort()).toEqual([201, 409]);
      const winner = answers.find((a) => a.status === 201);
      const loser = regs[answers.findIndex((a) => a.status === 409)];
      expect(answers.find((a) => a.status === 409)?.body.error.code).toBe('email-taken');
      expect((await models.users.find({ email }, { _id: 1 }).lean()).map((u) => u._id)).toEqual([
        winner?.body.user.id,
      ]);
      expect(await models.userLookups.findById(`email:${email}`).lean()).toMatchObject({
        userId: winner?.body.user.id,
      });
      // The loser's key is free again: it registers under another email.
      const again = await new ApiClient(server.baseUrl).post('/auth/register', {
        ...loser?.body,
        email: `again-${round}-${Date.now()}@example.org`,
      });
      expect(again.status).toBe(201);
    }
  });

  it('when a registration died after taking an email, then the email is refused while it may still finish and free a minute later', async () => {
    const { body } = await registrationFor({ name: 'Dana Lookup' });
    await models.userLookups.create({
      _id: `email:${body.email}`,
      userId: 'died-half-way',
      createdAt: new Date(),
    });
    expect((await login(body.email, body.loginSecret)).status).toBe(401);
    const early = await new ApiClient(server.baseUrl).post('/auth/register', body);
    expect([early.status, early.body]).toEqual([
      409,
      { error: expect.objectContaining({ code: 'email-taken' }) },
    ]);
    await models.userLookups.updateOne(
      { _id: `email:${body.email}` },
      { $set: { createdAt: new Date(Date.now() - 2 * 60_000) } },
    );
    const later = await new ApiClient(server.baseUrl).post<{ user: { id: string } }>(
      '/auth/register',
      body,
    );
    expect(later.status).toBe(201);
    expect(await models.userLookups.findById(`email:${body.email}`).lean()).toMatchObject({
      userId: later.body.user.id,
    });
    expect((await login(body.email, body.loginSecret)).status).toBe(200);
  });

  it('when users were stored before their lookups, then the migration adds them, again adds nothing, and they log in and are found', async () => {
    await models.userLookups.deleteMany({ userId: { $in: [alice.id, bob.id] } });
    // A lookup left by a registration that died, on Bob's email: replaced.
    await models.userLookups.create({
      _id: `email:${bob.email}`,
      userId: 'died-half-way',
      createdAt: new Date(),
    });
    expect((await login(alice.email, alice.loginSecret)).status).toBe(401);
    const migrate = () => migrateUserLookups(models, createLogger('silent'));
    await expect(migrate()).resolves.toBe(4);
    await expect(migrate()).resolves.toBe(0);
    expect((await login(alice.email, alice.loginSecret)).status).toBe(200);
    expect((await login(bob.email, bob.loginSecret)).status).toBe(200);
    const found = await alice.api.get<DirectoryResponse>(
      `/users?email=${encodeURIComponent(bob.email)}`,
    );
    expect(found.body.users.map((u) => u.id)).toEqual([bob.id]);
    const taken = await new ApiClient(server.baseUrl).post('/auth/register', {
      ...(await registrationFor({ name: 'Eve' })).body,
      publicKey: bob.publicKey,
    });
    expect(taken.body).toMatchObject({ error: { code: 'key-taken' } });
  });
});
