// Key transparency log (issue 12): registration logs the key, the four endpoints serve what the
// client checks verify, and appends stay ordered without gaps under concurrency.
import {
  bindingLeafHash,
  checkHeadUpdate,
  checkOwnBindings,
  hexToBytes,
  keyIdentityOf,
  logPublicKeyOf,
  verifyConsistency,
  verifyInclusion,
  verifyKeyInLog,
  type SignedTreeHead,
} from '@medseal/crypto';
import type { KtHistoryResponse, ProvenBindingBody } from '@medseal/contract';
import { TILE_BYTES, TransparencyLog } from '../src/components/transparency/log';
import { ktModels } from '../src/components/transparency/model';
import { createLogger } from '../src/lib/logger';
import { ApiClient, codeOf } from './helpers/client';
import { registerUser, type TestUser } from './helpers/users';
import { startTestServer, type TestServer } from './support';

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

async function head(): Promise<SignedTreeHead> {
  const res = await anonymous().get<SignedTreeHead>('/kt/head');
  expect(res.status).toBe(200);
  return res.body;
}

describe('key-transparency endpoints', () => {
  it('when users register, then their keys are in the log under a head signed by the log key', async () => {
    const h = await head();
    expect(h.size).toBeGreaterThanOrEqual(2);
    const first = checkHeadUpdate({ stored: null, next: h, consistency: [], logPublicKey });
    const res = await patient.api.get<ProvenBindingBody>(
      `/kt/users/${doctor.id}/binding?size=${first.size}`,
    );
    expect(res.status).toBe(200);
    const binding = await verifyKeyInLog({
      head: first,
      armoredKey: doctor.publicKey,
      expect: { userId: doctor.id, email: doctor.email },
      proven: res.body,
    });
    expect(binding.fingerprint).toBe(doctor.fingerprint);
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
    const h = await head();
    const res = await doctor.api.get<KtHistoryResponse>(`/kt/history?size=${h.size}`);
    expect(res.status).toBe(200);
    expect(res.body.bindings).toHaveLength(1);
    expect(
      checkOwnBindings({
        head: h,
        userId: doctor.id,
        ownKeys: [await keyIdentityOf(doctor.publicKey)],
        history: res.body.bindings,
      }),
    ).toEqual({ status: 'ok' });
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

  async function checkWholeLog(): Promise<void> {
    const final = await log().latestHead();
    if (!final) throw new Error('empty log');
    const models = ktModels(server.connection);
    for (let size = 1; size <= final.size; size++) {
      const h = await models.heads.findById(size).lean();
      if (!h) throw new Error(`no head ${size}`);
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
