import {
  openAccountState,
  ownKeyOf,
  sealAccountState,
  type AccountState,
  type UserId,
} from '@medseal/crypto';
import { accountStateResponseSchema } from '@medseal/contract';
import { codeOf } from './helpers/client';
import { encryptTo } from './helpers/pgp';
import { registerUser, type TestUser } from './helpers/users';
import { startTestServer, type TestServer } from './support';

let server: TestServer;
let alice: TestUser;
let bob: TestUser;
beforeAll(async () => {
  server = await startTestServer();
  alice = await registerUser(server.baseUrl, { name: 'Alice' });
  bob = await registerUser(server.baseUrl, { name: 'Bob' });
});
afterAll(() => server.close());

async function sealedState(
  user: TestUser,
  version: number,
  seen: Record<string, number> = {},
): Promise<Uint8Array> {
  const state: AccountState = {
    userId: user.id as UserId,
    version,
    ownKey: await ownKeyOf(user.key.privateKey),
    pins: [],
    seen,
    consents: [],
    audit: {},
    transparencyHead: null,
  };
  return (await sealAccountState({ state, key: user.key.privateKey })).message;
}

const put = (
  user: TestUser,
  baseVersion: number,
  data: Uint8Array,
  contentType = 'application/octet-stream',
) =>
  user.api.request('PUT', `/account-state?baseVersion=${baseVersion}`, {
    raw: { data, contentType },
  });
const get = async (user: TestUser) =>
  accountStateResponseSchema.parse((await user.api.get('/account-state')).body);

describe('the account state', () => {
  it('when nothing is stored, then version 0 and no blob; after a put, the same bytes come back (base64url) and open with the owner key', async () => {
    expect(await get(alice)).toEqual({ version: 0, blob: null });
    const message = await sealedState(alice, 1, { r1: 3 });
    const res = await put(alice, 0, message);
    expect([res.status, res.body]).toEqual([200, { version: 1 }]);
    const got = await get(alice);
    expect(got.version).toBe(1);
    const bytes = new Uint8Array(Buffer.from(got.blob ?? '', 'base64url'));
    expect(Buffer.from(bytes).equals(Buffer.from(message))).toBe(true);
    const opened = await openAccountState({
      message: bytes,
      userId: alice.id,
      key: alice.key.privateKey,
    });
    expect(opened).toMatchObject({ status: 'verified', state: { version: 1, seen: { r1: 3 } } });
    expect((await get(bob)).version).toBe(0);
  });

  it('is stored under `_id` = user id in account_states, as binary', async () => {
    const doc = await server.connection
      .collection<{ _id: string; blob: unknown }>('account_states')
      .findOne({ _id: alice.id });
    expect(doc?.blob).toBeDefined();
    expect(typeof doc?.blob).not.toBe('string');
  });

  it('when two devices write from the same version at once, then exactly one is stored and the others get 409 version-conflict', async () => {
    for (let round = 0; round < 2; round++) {
      const base = (await get(alice)).version;
      const blobs = await Promise.all(
        [1, 2, 3].map((i) => sealedState(alice, base + 1, { [`device-${i}`]: 1 })),
      );
      const answers = await Promise.all(blobs.map((b) => put(alice, base, b)));
      expect([round, answers.map((a) => a.status).sort()]).toEqual([round, [200, 409, 409]]);
      expect(answers.filter((a) => a.status === 409).map(codeOf)).toEqual([
        'version-conflict',
        'version-conflict',
      ]);
      const winner = blobs[answers.findIndex((a) => a.status === 200)] ?? new Uint8Array();
      expect(await get(alice)).toEqual({
        version: base + 1,
        blob: Buffer.from(winner).toString('base64url'),
      });
    }
  });

  it('when the stored state is gone, then a device starts again above the version it last saw; a stale base is still a conflict once one is stored', async () => {
    const carol = await registerUser(server.baseUrl, { name: 'Carol' });
    expect((await put(carol, 0, await sealedState(carol, 1))).status).toBe(200);
    expect((await put(carol, 1, await sealedState(carol, 2))).status).toBe(200);
    await server.connection
      .collection<{ _id: string }>('account_states')
      .deleteOne({ _id: carol.id });
    const again = await put(carol, 2, await sealedState(carol, 3));
    expect([again.status, again.body]).toEqual([200, { version: 3 }]);
    expect((await get(carol)).version).toBe(3);
    expect(codeOf(await put(carol, 1, await sealedState(carol, 2)))).toBe('version-conflict');
  });

  it("when the state is not encrypted to the user's own key only, then 400 recipient-mismatch and nothing stored", async () => {
    const res = await put(bob, 0, await encryptTo([alice.publicKey], 'x', { armor: false }));
    expect([res.status, codeOf(res)]).toEqual([400, 'recipient-mismatch']);
    const both = await put(
      bob,
      0,
      await encryptTo([bob.publicKey, alice.publicKey], 'x', { armor: false }),
    );
    expect([both.status, codeOf(both)]).toEqual([400, 'recipient-mismatch']);
    expect(await get(bob)).toEqual({ version: 0, blob: null });
  });

  it('when the body is not a binary message, JSON, or the base version is not a number, then 4xx with a code and nothing stored', async () => {
    const junk = await put(bob, 0, new TextEncoder().encode('hello'));
    expect(junk.status).toBe(400);
    expect(codeOf(junk)).toMatch(/^(not-a-message|not-armored)$/);
    const json = await put(bob, 0, new TextEncoder().encode('{}'), 'application/json');
    expect([json.status, codeOf(json)]).toEqual([415, 'unsupported-content-type']);
    const badQuery = await bob.api.request('PUT', '/account-state?baseVersion=abc', {
      raw: { data: await sealedState(bob, 1), contentType: 'application/octet-stream' },
    });
    expect(badQuery.status).toBe(400);
    expect(await get(bob)).toEqual({ version: 0, blob: null });
  });

  it('when signed out, then 401', async () => {
    const res = await fetch(`${server.baseUrl}/api/account-state`);
    expect(res.status).toBe(401);
  });
});
