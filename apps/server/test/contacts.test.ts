import { openSelfBlob, sealSelfBlob } from '@medseal/crypto';
import { contactsBlobResponseSchema } from '@medseal/contract';
import { codeOf } from './helpers/client';
import { armoredTo } from './helpers/pgp';
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

const blobFor = (user: TestUser, data: Record<string, string>) =>
  sealSelfBlob({ data, purpose: 'contacts', key: user.key.privateKey });

describe('the contacts blob', () => {
  it('when nothing is stored, then version 0; after a put, the same blob comes back and opens with the owner key', async () => {
    expect(contactsBlobResponseSchema.parse((await alice.api.get('/contacts')).body)).toEqual({
      version: 0,
      blob: null,
    });
    const blob = await blobFor(alice, { [bob.id]: bob.fingerprint });
    const put = await alice.api.put('/contacts', { baseVersion: 0, blob });
    expect(put.status).toBe(200);
    const got = contactsBlobResponseSchema.parse((await alice.api.get('/contacts')).body);
    expect(got).toEqual({ version: 1, blob });
    const opened = await openSelfBlob({
      message: got.blob ?? '',
      purpose: 'contacts',
      key: alice.key.privateKey,
    });
    expect(opened).toMatchObject({ status: 'verified' });
    expect(contactsBlobResponseSchema.parse((await bob.api.get('/contacts')).body).version).toBe(0);
  });

  it('when two devices write from the same version, then the second gets 409 version-conflict', async () => {
    const base = contactsBlobResponseSchema.parse((await alice.api.get('/contacts')).body).version;
    const first = await alice.api.put('/contacts', {
      baseVersion: base,
      blob: await blobFor(alice, { a: '1' }),
    });
    const second = await alice.api.put('/contacts', {
      baseVersion: base,
      blob: await blobFor(alice, { b: '2' }),
    });
    expect(first.status).toBe(200);
    expect(second.status).toBe(409);
    expect(codeOf(second)).toBe('version-conflict');
  });

  it('when four devices write from the same version at once, then exactly one is stored and the others get 409', async () => {
    for (let round = 0; round < 3; round++) {
      const base = contactsBlobResponseSchema.parse(
        (await alice.api.get('/contacts')).body,
      ).version;
      const blobs = await Promise.all(
        [1, 2, 3, 4].map((i) => blobFor(alice, { device: String(i) })),
      );
      const answers = await Promise.all(
        blobs.map((blob) => alice.api.put('/contacts', { baseVersion: base, blob })),
      );
      const statuses = answers.map((a) => a.status).sort();
      expect([round, statuses]).toEqual([round, [200, 409, 409, 409]]);
      const winner = blobs[answers.findIndex((a) => a.status === 200)];
      expect(contactsBlobResponseSchema.parse((await alice.api.get('/contacts')).body)).toEqual({
        version: base + 1,
        blob: winner,
      });
    }
  });

  it("when the blob is not encrypted to the user's own key only, then 400 recipient-mismatch", async () => {
    const res = await bob.api.put('/contacts', {
      baseVersion: 0,
      blob: await armoredTo([alice.publicKey]),
    });
    expect(res.status).toBe(400);
    expect(codeOf(res)).toBe('recipient-mismatch');
  });

  it('when the user deletes her contacts list, then only hers is gone, and deleting again is fine', async () => {
    const carol = await registerUser(server.baseUrl, { name: 'Carol' });
    expect(
      (await carol.api.put('/contacts', { baseVersion: 0, blob: await blobFor(carol, { a: '1' }) }))
        .status,
    ).toBe(200);
    expect(
      (await bob.api.put('/contacts', { baseVersion: 0, blob: await blobFor(bob, { b: '2' }) }))
        .status,
    ).toBe(200);
    expect((await carol.api.delete('/contacts')).status).toBe(204);
    expect(contactsBlobResponseSchema.parse((await carol.api.get('/contacts')).body)).toEqual({
      version: 0,
      blob: null,
    });
    expect(contactsBlobResponseSchema.parse((await bob.api.get('/contacts')).body).version).toBe(1);
    expect((await carol.api.delete('/contacts')).status).toBe(204);
  });
});
