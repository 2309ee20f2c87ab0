import { setTimeout as delay } from 'node:timers/promises';
import type { Connection } from 'mongoose';
import { freshTestDatabaseUri } from '@medseal/devdb/test-database';
import { connectDb } from '../src/lib/db';
import { ClaimGroup, claimModel, withClaim, type ClaimStore } from '../src/lib/claims';
import { startDbProxy } from './helpers/db-proxy';
import { STALLED, stalled } from './helpers/stand-ins';
import { until } from './helpers/until';

describe('claims taken together (ClaimGroup, a batch of shares)', () => {
  let connection: Connection;
  let store: ClaimStore;

  beforeAll(async () => {
    connection = await connectDb(freshTestDatabaseUri('claimgroup'));
    store = { models: { claims: claimModel(connection) } };
  });
  afterAll(async () => {
    await connection.dropDatabase();
    await connection.close();
  });

  it('when claims are asked for together and one is held by another writer, then the others are taken, that one is refused, and giving back removes only the taken ones', async () => {
    const held = { _id: 'record:held:2', createdAt: new Date() };
    await store.models.claims.create(held);
    const group = new ClaimGroup(store);
    const mine = ['record:a:2', 'record:held:2', 'record:b:2'].map((_id) => ({
      _id,
      createdAt: new Date(),
    }));

    const taken = await Promise.all(mine.map((c) => group.take(c)));
    expect(taken).toEqual([true, false, true]);
    expect((await store.models.claims.find({}).lean()).map((c) => c._id).sort()).toEqual([
      'record:a:2',
      'record:b:2',
      'record:held:2',
    ]);

    await Promise.all([mine[0], mine[1], mine[2]].map((c) => c && group.giveBack(c)));
    // The other writer's claim stays (its createdAt is not ours).
    expect((await store.models.claims.find({}).lean()).map((c) => c._id)).toEqual([
      'record:held:2',
    ]);
  });

  it('when two writes of one group want the same claim at once, then only one of them runs', async () => {
    const group = new ClaimGroup(store);
    let running = 0;
    let most = 0;
    // The write that got the claim holds it until the other two have given up (not for a
    // fixed time: after it gave the claim back, another may rightly take it). A second write
    // running at the same time lets it go at once, and the checks below fail.
    let release: () => void = () => undefined;
    const othersGaveUp = new Promise<void>((resolve) => (release = resolve));
    let gaveUp = 0;
    const write = async () => {
      most = Math.max(most, ++running);
      if (running > 1) release();
      await othersGaveUp;
      running--;
      return 'written';
    };
    const results = await Promise.all(
      [1, 2, 3].map(async () => {
        const result = await withClaim(
          store,
          'record:same:5',
          () => Promise.resolve(false),
          write,
          group,
        );
        if (result === undefined && ++gaveUp === 2) release();
        return result;
      }),
    );
    expect(results.filter((r) => r === 'written')).toHaveLength(1);
    expect(most).toBe(1);
    expect(await store.models.claims.countDocuments({ _id: 'record:same:5' })).toBe(0);
  });

  it('when taking a group of claims fails, then the claims asked for meanwhile fail with its error, without an insert of their own', async () => {
    // The database stops answering: each insert fails after 300 ms, as a timeout would.
    const claims = stalled(store.models.claims, 'insertMany');
    const group = new ClaimGroup({ models: { claims: claims.stalled } });
    const claim = (_id: string) => ({ _id, createdAt: new Date() });
    const first = group.take(claim('record:s1:2'));
    await delay(100);
    const waiting = ['record:s2:2', 'record:s3:2'].map((id) => group.take(claim(id)));
    for (const taken of [first, ...waiting]) {
      await expect(taken).rejects.toThrow(STALLED);
    }
    expect(claims.calls.n).toBe(1);
  });

  it('when a write fails while the database answers, then its claim is back before its error is thrown: a retry at once takes it', async () => {
    const save = (write: () => Promise<string>) =>
      withClaim(store, 'record:retried:4', () => Promise.resolve(false), write);
    await expect(save(() => Promise.reject(new Error('refused')))).rejects.toThrow('refused');
    // Before, the claim went back 250 ms later, and a retry that came sooner was refused.
    await expect(save(() => Promise.resolve('written'))).resolves.toBe('written');
    expect(await claimIds(store)).not.toContain('record:retried:4');
  });

  it('when giving a claim back fails after its write was stored, then the write counts as done; when the write fails, its own error is the answer and the claim is given back once the database answers', async () => {
    const proxy = await startDbProxy(freshTestDatabaseUri('claimgroup'));
    const through = await connectDb(proxy.uri);
    try {
      const viaProxy: ClaimStore = { models: { claims: claimModel(through) } };
      // A `delete` command (BSON: a string element named `delete`) on the claims collection.
      proxy.resetOn(['\x02delete\x00', 'write_claims\x00']);
      await expect(
        withClaim(
          viaProxy,
          'record:stored:3',
          () => Promise.resolve(false),
          () => Promise.resolve('written'),
        ),
      ).resolves.toBe('written');
      await expect(
        withClaim(
          viaProxy,
          'record:failed:3',
          () => Promise.resolve(false),
          () => Promise.reject(new Error('the write itself failed')),
        ),
      ).rejects.toThrow('the write itself failed');
      await delay(1_000);
      expect(await claimIds(viaProxy)).toEqual(['record:failed:3', 'record:stored:3']);
      proxy.resetOn(undefined);
      // The stored write's claim names a version no writer asks for again; the failed write's
      // version is the next writer's, so its claim goes.
      await until(async () => (await claimIds(viaProxy)).length === 1, 10_000);
      expect(await claimIds(viaProxy)).toEqual(['record:stored:3']);
    } finally {
      await through.dropDatabase();
      await through.close();
      await proxy.close();
    }
  });

  it("when the answer to taking a claim is lost though the claim was stored, then it is given back, and the writer's retry takes it within seconds", async () => {
    const proxy = await startDbProxy(freshTestDatabaseUri('claimgroup'));
    const through = await connectDb(proxy.uri);
    try {
      const viaProxy: ClaimStore = { models: { claims: claimModel(through) } };
      const save = () =>
        withClaim(
          viaProxy,
          'account_states:lost:2',
          () => Promise.resolve(true),
          () => Promise.resolve('written'),
        );
      proxy.resetOn(['\x02insert\x00', 'write_claims\x00'], { afterStoring: true });
      await expect(save()).rejects.toThrow();
      proxy.resetOn(undefined);
      // Before, the retry was refused until the claim went stale (60 s).
      await until(async () => (await save()) === 'written', 10_000);
      expect(await claimIds(viaProxy)).toEqual([]);
    } finally {
      await through.dropDatabase();
      await through.close();
      await proxy.close();
    }
  });
});

/** The ids of the stored claims, sorted. */
async function claimIds(store: ClaimStore): Promise<string[]> {
  return (await store.models.claims.find({}).lean()).map((c) => c._id).sort();
}
