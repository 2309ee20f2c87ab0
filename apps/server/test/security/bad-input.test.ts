import { readPublicKey } from '@medseal/crypto';
import { ApiClient, codeOf } from '../helpers/client';
import { armoredTo } from '../helpers/pgp';
import { createRecordAs, recipientsOf } from '../helpers/records';
import {
  fixture,
  newRecordId,
  randomSecret,
  registerUser,
  registrationFor,
  type TestUser,
} from '../helpers/users';
import { startTestServer, type TestServer } from '../support';
import { giveConsent } from '../helpers/consents';

/** Every bad input gets a clear 4xx with a stable code, and nothing is stored. */
let server: TestServer;
let patient: TestUser;
let doctor: TestUser;
let goodKeyUser: TestUser;
beforeAll(async () => {
  server = await startTestServer();
  patient = await registerUser(server.baseUrl, { name: 'Patient' });
  doctor = await registerUser(server.baseUrl, { name: 'Dr Bad', role: 'doctor' });
  await giveConsent(patient, doctor);
  // A user whose key is the crypto fixture `good`, so its SED fixture message is "to" them.
  const { body } = await registrationFor({ name: 'Good Key' });
  const api = new ApiClient(server.baseUrl);
  const res = await api.post<{ user: { id: string; fingerprint: string; publicKey: string } }>(
    '/auth/register',
    { ...body, publicKey: fixture('good.pub.asc') },
  );
  expect(res.status).toBe(201);
  goodKeyUser = {
    ...patient,
    id: res.body.user.id,
    fingerprint: res.body.user.fingerprint,
    publicKey: res.body.user.publicKey,
    api,
    email: body.email,
  };
});
afterAll(() => server.close());

const countRecords = () => server.connection.collection('records').countDocuments();

async function expectRefused(
  res: { status: number; body: unknown },
  status: number,
  code: string,
  before: number,
) {
  expect({ status: res.status, code: codeOf(res as never) }).toEqual({ status, code });
  expect(await countRecords()).toBe(before);
}

describe('record messages the server must refuse', () => {
  it.each([
    ['a non-armored message', 'not-armored', async () => 'hello, this is not OpenPGP'],
    [
      'plaintext health data in a literal packet',
      'unencrypted-data',
      async () => fixture('plaintext-literal.asc'),
    ],
    [
      'encrypted but with clear text in an armor header',
      'unencrypted-data',
      async () =>
        (await armoredTo([patient.publicKey])).replace(
          '-----BEGIN PGP MESSAGE-----\n',
          '-----BEGIN PGP MESSAGE-----\nComment: diagnosis HIV positive\n',
        ),
    ],
  ])('when the message is %s, then 400 %s and nothing stored', async (_what, code, make) => {
    const before = await countRecords();
    const res = await patient.api.post('/records', {
      recordId: newRecordId(),
      ownerId: patient.id,
      recipients: recipientsOf(patient),
      message: await make(),
    });
    await expectRefused(res, 400, code, before);
  });

  it('when the message uses a SED packet (no integrity protection), then 400 no-integrity', async () => {
    const before = await countRecords();
    const res = await goodKeyUser.api.post('/records', {
      recordId: newRecordId(),
      ownerId: goodKeyUser.id,
      recipients: recipientsOf(goodKeyUser),
      message: fixture('sed-to-good.asc'),
    });
    await expectRefused(res, 400, 'no-integrity', before);
  });

  it('when the message is encrypted to fewer recipients than declared, then 400 recipient-mismatch', async () => {
    const before = await countRecords();
    const res = await doctor.api.post('/records', {
      recordId: newRecordId(),
      ownerId: patient.id,
      recipients: recipientsOf(patient, doctor),
      message: await armoredTo([patient.publicKey]),
    });
    await expectRefused(res, 400, 'recipient-mismatch', before);
  });

  it('when the message is encrypted to more recipients than declared, then 400 recipient-mismatch', async () => {
    const before = await countRecords();
    const res = await patient.api.post('/records', {
      recordId: newRecordId(),
      ownerId: patient.id,
      recipients: recipientsOf(patient),
      message: await armoredTo([patient.publicKey, doctor.publicKey]),
    });
    await expectRefused(res, 400, 'recipient-mismatch', before);
  });

  it("when a recipient is declared with someone else's fingerprint, then 400 fingerprint-mismatch", async () => {
    const before = await countRecords();
    const res = await doctor.api.post('/records', {
      recordId: newRecordId(),
      ownerId: patient.id,
      recipients: [
        { userId: patient.id, fingerprint: doctor.fingerprint },
        { userId: doctor.id, fingerprint: doctor.fingerprint },
      ],
      message: await armoredTo([patient.publicKey, doctor.publicKey]),
    });
    await expectRefused(res, 400, 'fingerprint-mismatch', before);
    expect((await readPublicKey(patient.publicKey)).fingerprint).not.toBe(doctor.fingerprint);
  });

  it('when an update carries unknown fields such as ownerId or version, then 400 unknown-field and the record is unchanged', async () => {
    const record = await createRecordAs(patient, patient, [patient]);
    const message = await armoredTo([patient.publicKey]);
    for (const extra of [{ ownerId: doctor.id }, { version: 7 }, { authorId: doctor.id }]) {
      const res = await patient.api.put(`/records/${record.id}`, {
        baseVersion: 1,
        recipients: recipientsOf(patient),
        message,
        ...extra,
      });
      expect({ extra, status: res.status, code: codeOf(res) }).toEqual({
        extra,
        status: 400,
        code: 'unknown-field',
      });
    }
    const stored = await patient.api.get<{ version: number; ownerId: string; message: string }>(
      `/records/${record.id}`,
    );
    expect(stored.body).toMatchObject({ version: 1, ownerId: patient.id, message: record.message });
  });
});

describe('hostile request bodies', () => {
  const validCreate = async () => ({
    recordId: newRecordId(),
    ownerId: patient.id,
    recipients: recipientsOf(patient),
    message: await armoredTo([patient.publicKey]),
  });

  it('when the body is over the JSON limit, then 413 body-too-large', async () => {
    const before = await countRecords();
    const res = await patient.api.post('/records', {
      ...(await validCreate()),
      message: 'x'.repeat(1_100_000),
    });
    await expectRefused(res, 413, 'body-too-large', before);
  });

  it('when the body has 10^5 keys, then 400 too-many-keys', async () => {
    const before = await countRecords();
    const many: Record<string, number> = {};
    for (let i = 0; i < 100_000; i++) many[i.toString(36)] = 0;
    const res = await patient.api.post('/records', { ...(await validCreate()), many });
    await expectRefused(res, 400, 'too-many-keys', before);
  });

  it('when the body is nested 100 000 deep, then 400 too-deep (and the server stays up)', async () => {
    const before = await countRecords();
    const deep = `${'['.repeat(100_000)}${']'.repeat(100_000)}`;
    const res = await patient.api.request('POST', '/records', {
      raw: { data: `{"recordId":"x","nested":${deep}}`, contentType: 'application/json' },
    });
    await expectRefused(res, 400, 'too-deep', before);
    expect((await patient.api.get('/auth/me')).status).toBe(200);
  });

  it.each([
    ['{"$ne": null} as the email', { email: { $ne: null }, loginSecret: randomSecret() }],
    [
      'a $where key',
      { email: 'a@example.org', loginSecret: randomSecret(), $where: 'sleep(1000)' },
    ],
    [
      'a __proto__ key',
      JSON.parse(
        `{"email":"a@example.org","loginSecret":"${randomSecret()}","__proto__":{"admin":true}}`,
      ) as object,
    ],
    [
      'a constructor.prototype key',
      {
        email: 'a@example.org',
        loginSecret: randomSecret(),
        constructor: { prototype: { admin: true } },
      },
    ],
  ])('when a login body has %s, then 400 forbidden-key', async (_what, body) => {
    const res = await new ApiClient(server.baseUrl).post('/auth/login', body);
    expect(res.status).toBe(400);
    expect(codeOf(res)).toBe('forbidden-key');
  });

  it('when a record body hides an operator in a nested object, then 400 forbidden-key and nothing stored', async () => {
    const before = await countRecords();
    const res = await patient.api.post('/records', {
      ...(await validCreate()),
      recipients: [{ userId: { $gt: '' }, fingerprint: patient.fingerprint }],
    });
    await expectRefused(res, 400, 'forbidden-key', before);
  });

  it.each([
    ['/auth/params?email[$ne]=x', 'unknown-field'],
    ['/auth/params?$where=1&email=a%40example.org', 'forbidden-key'],
    ['/users?email[$regex]=.*', 'unknown-field'],
    ['/records?limit=5&ownerId=x', 'unknown-field'],
  ])('when the query is %s, then 400 %s', async (path, code) => {
    const res = await patient.api.get(path);
    expect({ status: res.status, code: codeOf(res) }).toEqual({ status: 400, code });
  });

  it('when the body is sent as text/plain or form data, then 415 unsupported-content-type and nothing stored', async () => {
    const before = await countRecords();
    const json = JSON.stringify(await validCreate());
    for (const contentType of ['text/plain', 'application/x-www-form-urlencoded']) {
      const res = await patient.api.request('POST', '/records', {
        raw: { data: json, contentType },
      });
      expect({ contentType, status: res.status, code: codeOf(res) }).toEqual({
        contentType,
        status: 415,
        code: 'unsupported-content-type',
      });
    }
    expect(await countRecords()).toBe(before);
  });

  it('when the JSON is malformed, then 400 malformed-json', async () => {
    const res = await patient.api.request('POST', '/records', {
      raw: { data: '{"recordId": ', contentType: 'application/json' },
    });
    expect({ status: res.status, code: codeOf(res) }).toEqual({
      status: 400,
      code: 'malformed-json',
    });
  });

  it.each([
    ['not base64 JSON', 'garbage'],
    [
      'a time no date can hold',
      Buffer.from(JSON.stringify([1e20, 'A'.repeat(22)])).toString('base64url'),
    ],
    ['a fractional time', Buffer.from(JSON.stringify([1.5, 'A'.repeat(22)])).toString('base64url')],
  ])('when the page cursor is %s, then 400 invalid-cursor', async (_what, before) => {
    const res = await patient.api.get(`/records?before=${before}`);
    expect({ status: res.status, code: codeOf(res) }).toEqual({
      status: 400,
      code: 'invalid-cursor',
    });
  });
});
