import { freshTestDatabaseUri } from '@medseal/devdb/test-database';
import type { Connection } from 'mongoose';
import { recordHistoryResponseSchema, recordSchema } from '@medseal/contract';
import { connectDb, isDatabaseUnavailable } from '../src/lib/db';
import { codeOf } from './helpers/client';
import { startDbProxy, type DbProxy } from './helpers/db-proxy';
import { createBody, createRecordAs } from './helpers/records';
import { createPracticeAs, createTeamAs, teamGrantBody } from './helpers/teams';
import { registerUser } from './helpers/users';
import { startTestServer, type TestServer } from './support';

/** An `insert` command (BSON: a string element named `insert`) into `collection`. */
const insertInto = (collection: string) => ['\x02insert\x00', `${collection}\x00`];
/** An `update` command into `collection`. */
const updateOf = (collection: string) => ['\x02update\x00', `${collection}\x00`];

describe('a database connection reset in the middle of a write', () => {
  let proxy: DbProxy;
  beforeAll(async () => {
    proxy = await startDbProxy(freshTestDatabaseUri('reset'));
  });
  afterAll(async () => {
    await proxy.close();
  });

  it('when an ordered insertMany loses its connection, then the driver error (a bulk write error keeping the network error inside) counts as the database being unavailable', async () => {
    const connection: Connection = await connectDb(proxy.uri);
    try {
      const probes = connection.collection<{ _id: string }>('probes');
      proxy.resetOn(insertInto('probes'));
      const error: unknown = await probes
        .insertMany([{ _id: 'a' }, { _id: 'b' }], { ordered: true })
        .then(
          () => undefined,
          (e: unknown) => e,
        );
      proxy.resetOn(undefined);
      expect((error as Error | undefined)?.name).toBe('MongoBulkWriteError');
      expect(isDatabaseUnavailable(error)).toBe(true);
      expect(isDatabaseUnavailable(new Error('E11000 duplicate key'))).toBe(false);
    } finally {
      await connection.dropDatabase().catch(() => undefined);
      await connection.close();
    }
  });

  it('when a read loses its connection and the database stays out of reach, then its retry gives up within the operation timeout (2.5 s), not a server selection timeout after the loss', async () => {
    const connection: Connection = await connectDb(proxy.uri);
    try {
      const probes = connection.collection<{ _id: string }>('probes');
      await probes.findOne({ _id: 'warm' });
      const held = proxy.holdOn(['held-read']);
      const started = performance.now();
      const read = probes.findOne({ _id: 'held-read' }).then(
        () => undefined,
        (e: unknown) => e,
      );
      await held.seen;
      // From now on every command and handshake is reset: the server stays unknown.
      proxy.resetOn(['']);
      await new Promise((resolve) => setTimeout(resolve, 1_500));
      held.reset();
      const error = await read;
      const ms = performance.now() - started;
      proxy.resetOn(undefined);
      expect(isDatabaseUnavailable(error)).toBe(true);
      // Unpatched, the retry's server selection took serverSelectionTimeoutMS (2 s) after the
      // reset: 3.5 s here (patches/mongodb@6.20.0.patch).
      expect(ms).toBeLessThan(3_000);
    } finally {
      proxy.resetOn(undefined);
      await connection.dropDatabase().catch(() => undefined);
      await connection.close();
    }
  });

  it('when the connection is reset while a new record group-commits its audit event, then 503 database-unavailable, not 500', async () => {
    const server: TestServer = await startTestServer({ mongoUri: proxy.uri });
    try {
      const alice = await registerUser(server.baseUrl, { name: 'Alice Reset' });
      const body = await createBody(alice, alice, [alice]);
      proxy.resetOn(insertInto('audit_events'));
      const res = await alice.api.post('/records', body);
      proxy.resetOn(undefined);
      expect({ status: res.status, code: codeOf(res) }).toEqual({
        status: 503,
        code: 'database-unavailable',
      });
    } finally {
      proxy.resetOn(undefined);
      await server.close();
    }
  });

  it('when a create stalls storing version 1, its retry is answered 201 meanwhile and then the first fails, then the record the retry answered stays, with its version 1, and a third send answers it', async () => {
    const server: TestServer = await startTestServer({ mongoUri: proxy.uri });
    try {
      const alice = await registerUser(server.baseUrl, { name: 'Alice Retry' });
      const body = await createBody(alice, alice, [alice]);
      const stall = proxy.holdOn(insertInto('record_versions'));
      const first = alice.api.post('/records', body);
      await stall.seen;
      const retry = await alice.api.post('/records', body);
      expect(retry.status).toBe(201);
      stall.reset();
      expect(codeOf(await first)).toBe('database-unavailable');

      const read = await alice.api.get(`/records/${body.recordId}`);
      expect(read.status).toBe(200);
      expect(recordSchema.parse(read.body).message).toBe(body.message);
      const history = await alice.api.get(`/records/${body.recordId}/versions`);
      expect(recordHistoryResponseSchema.parse(history.body).versions).toHaveLength(1);
      expect((await alice.api.post('/records', body)).status).toBe(201);
    } finally {
      await server.close();
    }
  });

  it('when the connection is reset while a team share writes its signed grant, then 503 and the record does not name the team (never a team reading without a grant)', async () => {
    const server: TestServer = await startTestServer({ mongoUri: proxy.uri });
    try {
      const patient = await registerUser(server.baseUrl, { name: 'Pat Reset' });
      const admin = await registerUser(server.baseUrl, { name: 'Dr Reset', role: 'doctor' });
      const team = await createTeamAs(admin, await createPracticeAs(admin));
      const record = await createRecordAs(patient, patient, [patient]);
      const body = await teamGrantBody(patient, team, record);
      proxy.resetOn(updateOf('team_grants'));
      const res = await patient.api.post(`/records/${record.id}/teams`, body);
      proxy.resetOn(undefined);
      expect({ status: res.status, code: codeOf(res) }).toEqual({
        status: 503,
        code: 'database-unavailable',
      });
      const stored = await server.connection
        .collection<{ _id: string; teams?: unknown[] }>('records')
        .findOne({ _id: record.id });
      expect(stored?.teams ?? []).toEqual([]);
      // The share sent again goes through.
      expect((await patient.api.post(`/records/${record.id}/teams`, body)).status).toBe(201);
    } finally {
      proxy.resetOn(undefined);
      await server.close();
    }
  });
});
