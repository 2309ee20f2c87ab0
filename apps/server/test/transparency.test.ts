// Key transparency log (issue 12): registration logs the key, the four endpoints serve what the
// client checks verify, and appends stay ordered without gaps under concurrency.
import {
  bindingLeafHash,
  checkHeadUpdate,
  checkOwnBindings,
  headMapRoot,
  hexToBytes,
  keyIdentityOf,
  logPublicKeyOf,
  mapKey,
  parseBinding,
  MemoryMap,
  signTreeHead,
  verifyConsistency,
  verifyInclusion,
  verifyKeyInLog,
  verifyMapLookup,
  verifyTreeHead,
  USER_KEY_BINDING_VERSION,
  type SignedTreeHead,
} from '@medseal/crypto';
import type {
  DirectoryResponse,
  DirectoryUser,
  KtHistoryResponse,
  KtLeavesResponse,
  LatestBindingBody,
} from '@medseal/contract';
import { TILE_BYTES, TransparencyLog } from '../src/components/transparency/log';
import { ktModels } from '../src/components/transparency/model';
import { createLogger } from '../src/lib/logger';
import { ApiClient, codeOf } from './helpers/client';
import { registerUser, type TestUser } from './helpers/users';
import { operatorLog, startTestServer, type TestServer } from './support';
import { migrateEmailCommitments } from '../src/components/transparency/use-cases';
import { createModels } from '../src/services';

let server: TestServer;
let logPublicKey: string;
let doctor: TestUser;
let patient: TestUser;
const anonymous = () => new ApiClient(server.baseUrl);

beforeAll(async () => {
  server = await startTestServer();
  logPublicKey = logPublicKeyOf(server.settings.secrets.ktLogKey);
  doctor = await registerUser(server.baseUrl, { name: 'Dr Kim', role: 'doctor' });
  patient = await registerUser(server.baseUrl, { name: 'Pat', role: 'patient' });
});
afterAll(() => server.close());

/** `user`'s history under `h`: `count` bindings, each proven, all of her own key (self-monitoring ok). */
async function expectOwnHistoryOk(user: TestUser, h: SignedTreeHead, count: number) {
  const res = await user.api.get<KtHistoryResponse>(`/kt/history?size=${h.size}`);
  expect(res.status).toBe(200);
  expect(res.body.bindings).toHaveLength(count);
  expect(
    checkOwnBindings({
      head: h,
      userId: user.id,
      ownKeys: [await keyIdentityOf(user.publicKey)],
      history: res.body.bindings,
      map: res.body.map,
    }),
  ).toEqual({ status: 'ok' });
}

async function head(): Promise<SignedTreeHead> {
  const res = await anonymous().get<SignedTreeHead>('/kt/head');
  expect(res.status).toBe(200);
  return res.body;
}

describe('key-transparency endpoints', () => {
  it('when users register, then their keys are in the log under a head signed by the log key, in leaves that commit to the email without holding it', async () => {
    const h = await head();
    expect(h.size).toBeGreaterThanOrEqual(2);
    const first = checkHeadUpdate({ stored: null, next: h, consistency: [], logPublicKey });
    const res = await patient.api.get<LatestBindingBody>(
      `/kt/users/${doctor.id}/binding?size=${first.size}`,
    );
    expect(res.status).toBe(200);
    // Anyone who knows his id gets this leaf: it must not tell his email.
    expect(res.body.leaf.data.toLowerCase()).not.toContain(doctor.email.toLowerCase());
    expect(parseBinding(res.body.leaf.data)).toMatchObject({ v: USER_KEY_BINDING_VERSION });
    // The nonce comes only with a lookup by his email, never with one by id.
    const byEmail = await patient.api.get<DirectoryResponse>(
      `/users?email=${encodeURIComponent(doctor.email)}`,
    );
    const emailNonce = byEmail.body.users[0]?.emailNonce;
    expect(emailNonce).toMatch(/^[A-Za-z0-9_-]{22}$/);
    const byId = await patient.api.get<DirectoryUser>(`/users/${doctor.id}`);
    expect(byId.status).toBe(200);
    expect(byId.body.emailNonce).toBeUndefined();
    const check = (expected: { userId: string; email?: string; emailNonce?: string }) =>
      verifyKeyInLog({
        head: first,
        armoredKey: doctor.publicKey,
        expect: expected,
        proven: res.body,
        map: res.body.map,
      });
    const binding = await check({
      userId: doctor.id,
      email: doctor.email,
      ...(emailNonce ? { emailNonce } : {}),
    });
    expect(binding.fingerprint).toBe(doctor.fingerprint);
    await expect(
      check({ userId: doctor.id, email: patient.email, ...(emailNonce ? { emailNonce } : {}) }),
    ).rejects.toMatchObject({ code: 'kt-binding-mismatch' });
  });

  it('when a later head is fetched, then a consistency proof from the earlier one verifies', async () => {
    const before = await head();
    const newcomer = await registerUser(server.baseUrl, { name: 'Dr New', role: 'doctor' });
    const after = await head();
    expect(after.size).toBeGreaterThan(before.size);
    const res = await anonymous().get<{ proof: string[] }>(
      `/kt/consistency?from=${before.size}&to=${after.size}`,
    );
    expect(res.status).toBe(200);
    expect(
      checkHeadUpdate({ stored: before, next: after, consistency: res.body.proof, logPublicKey }),
    ).toEqual(after);
    expect(newcomer.id).toBeTruthy();
  });

  it('when a user asks for their history, then every binding of theirs comes proven and self-monitoring is ok', async () => {
    await expectOwnHistoryOk(doctor, await head(), 1);
  });

  it('when an auditor asks for leaves, then it gets their hashes and subject keys (no text); a bad range is kt-bad-size', async () => {
    const h = await head();
    const res = await anonymous().get<KtLeavesResponse>(`/kt/leaves?from=0&to=${h.size}`);
    expect(res.status).toBe(200);
    expect(res.body.leaves.map((l) => l.index)).toEqual(
      Array.from({ length: h.size }, (_, i) => i),
    );
    const own = await doctor.api.get<KtHistoryResponse>(`/kt/history?size=${h.size}`);
    const index = own.body.bindings[0]?.leaf.index ?? -1;
    expect(res.body.leaves[index]).toEqual({
      index,
      hash: Buffer.from(bindingLeafHash(own.body.bindings[0]?.leaf.data ?? '')).toString('hex'),
      key: mapKey(doctor.id),
    });
    expect(JSON.stringify(res.body)).not.toContain(doctor.email);
    expect(codeOf(await anonymous().get(`/kt/leaves?from=0&to=${h.size + 1}`))).toBe('kt-bad-size');
    expect(codeOf(await anonymous().get(`/kt/leaves?from=2&to=1`))).toBe('kt-bad-size');
    expect(codeOf(await anonymous().get(`/kt/leaves?from=0&to=1001`))).toBe('kt-bad-size');
  });

  it('when a size has no signed head, or a user has no binding, then a stable code and nothing else', async () => {
    const h = await head();
    expect(codeOf(await anonymous().get(`/kt/consistency?from=${h.size}&to=${h.size + 5}`))).toBe(
      'kt-bad-size',
    );
    expect(codeOf(await anonymous().get(`/kt/consistency?from=2&to=1`))).toBe('kt-bad-size');
    expect(codeOf(await anonymous().get(`/kt/consistency?from=-1&to=1`))).toBe('invalid-input');
    expect(codeOf(await patient.api.get(`/kt/users/${doctor.id}/binding?size=0`))).toBe(
      'kt-bad-size',
    );
    expect(
      codeOf(await patient.api.get(`/kt/users/AAAAAAAAAAAAAAAAAAAAAA/binding?size=${h.size}`)),
    ).toBe('kt-not-logged');
    expect((await anonymous().get(`/kt/users/${doctor.id}/binding?size=${h.size}`)).status).toBe(
      401,
    );
    expect((await anonymous().get(`/kt/history?size=${h.size}`)).status).toBe(401);
  });
});

describe('appends', () => {
  const log = (stallMs?: number) =>
    new TransparencyLog(ktModels(server.connection), {
      logKey: server.settings.secrets.ktLogKey,
      logger: createLogger('silent'),
      ...(stallMs ? { stallMs } : {}),
    });
  const leaf = (n: number) => JSON.stringify({ test: n });

  /** Every head extends the one before, proves each leaf, and signs the map its leaves make. */
  async function checkWholeLog(): Promise<void> {
    const final = await log().latestHead();
    if (!final) throw new Error('empty log');
    const models = ktModels(server.connection);
    const map = new MemoryMap();
    for (let size = 1; size <= final.size; size++) {
      const h = await models.heads.findById(size).lean();
      if (!h) throw new Error(`no head ${size}`);
      const leafDoc = await models.leaves.findById(size - 1).lean();
      await map.appendLeaf(leafDoc?.subject ?? '', size - 1, bindingLeafHash(leafDoc?.data ?? ''));
      expect(h.mapRoot).toBe(map.root);
      const proof = await log().consistency(size, final.size);
      verifyConsistency(
        size,
        final.size,
        hexToBytes(h.root),
        hexToBytes(final.root),
        proof.map(hexToBytes),
      );
      const proven = await log().proven(size - 1, final.size);
      verifyInclusion(
        size - 1,
        final.size,
        bindingLeafHash(proven.leaf.data),
        proven.proof.map(hexToBytes),
        hexToBytes(final.root),
      );
    }
  }

  it('when 64 appends run at once in 4 processes, then each gets its own index, without gaps, and every head extends the one before', async () => {
    const start = (await log().latestHead())?.size ?? 0;
    const processes = [log(), log(), log(), log()];
    const indexes = await Promise.all(
      Array.from({ length: 64 }, (_, i) =>
        (processes[i % 4] as TransparencyLog).append(leaf(i), `subject-${i % 4}`),
      ),
    );
    expect([...indexes].sort((a, b) => a - b)).toEqual(
      Array.from({ length: 64 }, (_, i) => start + i),
    );
    expect((await log().latestHead())?.size).toBe(start + 64);
    await checkWholeLog();
    expect(await log().subjectIndexes('subject-1', start + 64)).toHaveLength(16);
  });

  it('when an appender dies after claiming its index, then the next append integrates that leaf and goes on', async () => {
    const size = (await log().latestHead())?.size ?? 0;
    await ktModels(server.connection).leaves.create({
      _id: size,
      data: leaf(-1),
      subject: 'crashed',
    });
    const index = await log(200).append(leaf(-2), 'after-crash');
    expect(index).toBe(size + 1);
    expect((await log().latestHead())?.size).toBe(size + 2);
    await checkWholeLog();
  });
});

describe('proof cache', () => {
  // Its own database: a fresh log whose first 256 leaves fill tile 0:0 (leaves 256.. go to 0:1).
  const name = `kt_cache_${process.pid}_${Date.now()}`;
  const db = () => server.connection.useDb(name, { useCache: true });
  afterAll(() => db().dropDatabase());

  it('when a full tile was read, then proofs keep serving it after more appends, and a partial tile is read again', async () => {
    const models = ktModels(db());
    const log = new TransparencyLog(models, {
      logKey: server.settings.secrets.ktLogKey,
      logger: createLogger('silent'),
    });
    const leaf = (n: number) => JSON.stringify({ cache: n });
    await Promise.all(Array.from({ length: 257 }, (_, i) => log.append(leaf(i), 's')));
    const verifies = async (index: number, size: number) => {
      const head = await models.heads.findById(size).lean();
      const proven = await log.proven(index, size);
      expect(proven.leaf.data).toBe(leaf(index));
      verifyInclusion(
        index,
        size,
        bindingLeafHash(proven.leaf.data),
        proven.proof.map(hexToBytes),
        hexToBytes(head?.root ?? ''),
      );
    };
    await verifies(3, 257); // reads full tile 0:0 and partial tile 0:1
    await verifies(256, 257);

    // Wipe the full tile and leaf 3 in the database (an honest log never does): the proof comes
    // from memory, unchanged, after more appends.
    await models.tiles.replaceOne({ _id: '0:0' }, { _id: '0:0', hashes: Buffer.alloc(TILE_BYTES) });
    await models.leaves.updateOne({ _id: 3 }, { data: 'wiped' });
    await log.append(leaf(257), 's');
    await verifies(3, 258);
    // Tile 0:1 was partial when read: leaf 257's hash, written since, is read from the database.
    await verifies(257, 258);
  });
});

describe('heads from before the subject map', () => {
  // Its own database: a log written the way the release before the map wrote it.
  const name = `kt_premap_${process.pid}_${Date.now()}`;
  const db = () => server.connection.useDb(name, { useCache: true });
  afterAll(() => db().dropDatabase());

  it('when heads have no map, then the migration gives each its map and signs it again; a v1 head kept by a client still extends to it', async () => {
    const models = ktModels(db());
    const logKey = server.settings.secrets.ktLogKey;
    const kt = new TransparencyLog(models, { logKey, logger: createLogger('silent') });
    const leaf = (n: number) => JSON.stringify({ premap: n });
    for (let i = 0; i < 5; i++) await kt.append(leaf(i), `s-${i % 2}`);
    // As the release before wrote them: v1 heads, no map nodes.
    for (let size = 1; size <= 5; size++) {
      const h = await models.heads.findById(size).lean();
      if (!h) throw new Error(`no head ${size}`);
      const v1 = signTreeHead({ v: 1, size, root: h.root, timestamp: h.timestamp }, logKey);
      await models.heads.replaceOne(
        { _id: size },
        { _id: size, root: h.root, timestamp: h.timestamp, signature: v1.signature },
      );
    }
    await models.mapNodes.deleteMany({});
    const keptByClient = await kt.latestHead();
    expect(keptByClient?.v).toBe(1);
    await expect(kt.mapProof('s-0', 5)).rejects.toThrow(/no subject map; run the migrations/);

    expect(await kt.migrateMap()).toBe(5);
    expect(await kt.migrateMap()).toBe(0); // idempotent
    const map = new MemoryMap();
    for (let size = 1; size <= 5; size++) {
      await map.appendLeaf(`s-${(size - 1) % 2}`, size - 1, bindingLeafHash(leaf(size - 1)));
      const h = await models.heads.findById(size).lean();
      expect(h?.mapRoot).toBe(map.root);
    }
    const migrated = await kt.latestHead();
    if (!migrated || !keptByClient) throw new Error('no head');
    verifyTreeHead(migrated, logPublicKey);
    expect(migrated).toMatchObject({
      v: 2,
      size: 5,
      root: keptByClient.root,
      timestamp: keptByClient.timestamp,
    });
    expect(
      checkHeadUpdate({ stored: keptByClient, next: migrated, consistency: [], logPublicKey }),
    ).toEqual(migrated);
    expect(
      verifyMapLookup(headMapRoot(migrated), 's-1', await kt.mapProof('s-1', 5)),
    ).toMatchObject({ count: 2, lastIndex: 3 });
  });

  it('when a process from before the map appended a head during a rolling deploy, then the next append gives it its map first', async () => {
    const models = ktModels(db());
    const logKey = server.settings.secrets.ktLogKey;
    const kt = new TransparencyLog(models, { logKey, logger: createLogger('silent') });
    const size = (await kt.latestHead())?.size ?? 0;
    await kt.append(JSON.stringify({ old: 1 }), 's-old');
    const h = await models.heads.findById(size + 1).lean();
    if (!h) throw new Error('no head');
    await models.heads.replaceOne(
      { _id: size + 1 },
      {
        _id: size + 1,
        root: h.root,
        timestamp: h.timestamp,
        signature: signTreeHead(
          { v: 1, size: size + 1, root: h.root, timestamp: h.timestamp },
          logKey,
        ).signature,
      },
    );
    await kt.append(JSON.stringify({ new: 1 }), 's-old');
    expect((await models.heads.findById(size + 1).lean())?.mapRoot).toBe(h.mapRoot);
    const latest = await kt.latestHead();
    if (!latest) throw new Error('no head');
    expect(
      verifyMapLookup(headMapRoot(latest), 's-old', await kt.mapProof('s-old', latest.size)),
    ).toMatchObject({ count: 2, lastIndex: size + 1 });
  });
});

describe('key leaves from before the email commitment', () => {
  it('when an account has only leaves that hold its email, then the migration logs one that commits to it, once, and lookups by email still verify', async () => {
    const old = await registerUser(server.baseUrl, { name: 'Dr Early', role: 'doctor' });
    // As an account from before version 2 leaves: its latest leaf holds the email, no nonce.
    await server.connection
      .collection('users')
      .updateOne({ _id: old.id as never }, { $unset: { emailNonce: 1 } });
    await operatorLog(server).bind({ id: old.id, email: old.email }, old.publicKey);
    const latest = async () => {
      const h = checkHeadUpdate({
        stored: null,
        next: await head(),
        consistency: [],
        logPublicKey,
      });
      const res = await patient.api.get<LatestBindingBody>(
        `/kt/users/${old.id}/binding?size=${h.size}`,
      );
      return { head: h, proven: res.body };
    };
    expect((await latest()).proven.leaf.data).toContain(old.email.toLowerCase());

    const migrate = () =>
      migrateEmailCommitments(
        createModels(server.connection),
        new TransparencyLog(ktModels(server.connection), {
          logKey: server.settings.secrets.ktLogKey,
          logger: createLogger('silent'),
        }),
        createLogger('silent'),
      );
    await expect(migrate()).resolves.toBe(1);
    await expect(migrate()).resolves.toBe(0);

    const { head: h, proven } = await latest();
    expect(proven.leaf.data.toLowerCase()).not.toContain(old.email.toLowerCase());
    const found = await patient.api.get<DirectoryResponse>(
      `/users?email=${encodeURIComponent(old.email)}`,
    );
    const emailNonce = found.body.users[0]?.emailNonce;
    expect(emailNonce).toBeDefined();
    await expect(
      verifyKeyInLog({
        head: h,
        armoredKey: old.publicKey,
        expect: { userId: old.id, email: old.email, ...(emailNonce ? { emailNonce } : {}) },
        proven,
        map: proven.map,
      }),
    ).resolves.toMatchObject({ v: USER_KEY_BINDING_VERSION, userId: old.id });
    // Her own history: three leaves of her one key, and self-monitoring is ok.
    await expectOwnHistoryOk(old, h, 3);
  });
});
