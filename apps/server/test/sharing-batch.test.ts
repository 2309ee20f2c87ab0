import { checkEncryptedTo } from '@medseal/crypto';
import {
  accessListResponseSchema,
  grantBatchResponseSchema,
  MAX_GRANTS_PER_BATCH,
  recordSchema,
} from '@medseal/contract';
import { ApiClient, codeOf } from './helpers/client';
import { giveConsent } from './helpers/consents';
import { createRecordAs, grantBody, recipientsOf, share } from './helpers/records';
import { registerUser, type TestUser } from './helpers/users';
import { startTestServer, type TestServer } from './support';

let server: TestServer;
let patient: TestUser;
let doctor: TestUser;
let other: TestUser;
beforeAll(async () => {
  server = await startTestServer();
  patient = await registerUser(server.baseUrl, { name: 'Bea Batch' });
  doctor = await registerUser(server.baseUrl, { name: 'Dr Batch', role: 'doctor' });
  other = await registerUser(server.baseUrl, { name: 'Otto Other' });
  await giveConsent(patient, doctor);
});
afterAll(() => server.close());

const batchItem = async (
  sharer: TestUser,
  grantee: TestUser,
  record: { id: string; message: string },
) => ({ recordId: record.id, ...(await grantBody(sharer, grantee, record)) });

/** What the server holds of a record for its owner, and its grants. */
async function storedState(owner: TestUser, recordId: string) {
  const record = recordSchema.parse((await owner.api.get(`/records/${recordId}`)).body);
  const access = accessListResponseSchema.parse(
    (await owner.api.get(`/records/${recordId}/access`)).body,
  );
  return {
    message: record.message,
    recipients: record.recipients,
    grants: access.entries.filter((e) => e.via === 'grant').map((e) => e.userId),
  };
}

describe('sharing several records in one request (POST /grants)', () => {
  it('when a batch mixes good and bad grants, then each good one is stored as a single share would, each bad one answers its own code in order and leaves its record unchanged', async () => {
    const a = await createRecordAs(patient, patient, [patient]);
    const b = await createRecordAs(patient, patient, [patient]);
    const wrongPacket = await createRecordAs(patient, patient, [patient]);
    const notHers = await createRecordAs(other, other, [other]);
    const alreadyRead = await createRecordAs(patient, patient, [patient]);
    await share(patient, doctor, alreadyRead);
    const onlyRead = await createRecordAs(other, other, [other]);
    await share(other, patient, onlyRead);
    const onlyReadNow = recordSchema.parse((await patient.api.get(`/records/${onlyRead.id}`)).body);
    const forgedFor = await createRecordAs(patient, patient, [patient]);
    const before = {
      wrongPacket: await storedState(patient, wrongPacket.id),
      forgedFor: await storedState(patient, forgedFor.id),
      notHers: await storedState(other, notHers.id),
      onlyRead: await storedState(other, onlyRead.id),
    };

    const good = await batchItem(patient, doctor, wrongPacket);
    const grants = [
      await batchItem(patient, doctor, a),
      { ...good, pkesk: (await grantBody(patient, other, wrongPacket)).pkesk },
      { recordId: notHers.id, ...(await grantBody(other, doctor, notHers)) },
      await batchItem(patient, doctor, b),
      await batchItem(patient, doctor, alreadyRead),
      await batchItem(patient, doctor, onlyReadNow),
      // A grant signed for record a, sent for another record.
      {
        ...(await batchItem(patient, doctor, forgedFor)),
        signedGrant: (await grantBody(patient, doctor, a)).signedGrant,
      },
    ];

    const res = await patient.api.post('/grants', { grants });
    expect(res.status).toBe(200);
    const { results } = grantBatchResponseSchema.parse(res.body);
    expect(
      results.map((r) => [r.recordId, r.status === 'shared' ? 'shared' : r.error.code]),
    ).toEqual([
      [a.id, 'shared'],
      [wrongPacket.id, 'recipient-mismatch'],
      [notHers.id, 'record-not-found'],
      [b.id, 'shared'],
      [alreadyRead.id, 'already-recipient'],
      [onlyRead.id, 'forbidden'],
      [forgedFor.id, 'bad-grant'],
    ]);
    const first = results[0];
    expect(first?.status === 'shared' && first.entry).toMatchObject({
      userId: doctor.id,
      via: 'grant',
      signedGrant: grants[0]?.signedGrant,
    });

    for (const shared of [a, b]) {
      const got = recordSchema.parse((await doctor.api.get(`/records/${shared.id}`)).body);
      expect(got.recipients).toEqual(recipientsOf(patient, doctor));
      await expect(
        checkEncryptedTo(got.message, [patient.publicKey, doctor.publicKey], { maxBytes: 1 << 20 }),
      ).resolves.toBeDefined();
      expect((await storedState(patient, shared.id)).grants).toEqual([doctor.id]);
    }
    expect(await storedState(patient, wrongPacket.id)).toEqual(before.wrongPacket);
    expect(await storedState(patient, forgedFor.id)).toEqual(before.forgedFor);
    expect(await storedState(other, notHers.id)).toEqual(before.notHers);
    expect(await storedState(other, onlyRead.id)).toEqual(before.onlyRead);
    for (const r of [wrongPacket, forgedFor, notHers, onlyRead])
      expect((await doctor.api.get(`/records/${r.id}`)).status).toBe(404);
  });

  it('when another writer holds the claim of one record of a batch, then that grant alone is refused with 409 and stores nothing, the others are shared, and it goes through once the claim is given back', async () => {
    const [a, held, c] = [
      await createRecordAs(patient, patient, [patient]),
      await createRecordAs(patient, patient, [patient]),
      await createRecordAs(patient, patient, [patient]),
    ];
    const stored = await server.connection
      .collection<{ _id: string; rev: number }>('records')
      .findOne({ _id: held.id });
    const claims = server.connection.collection<{ _id: string; createdAt: Date }>('write_claims');
    const claim = { _id: `record:${held.id}:${(stored?.rev ?? 0) + 1}`, createdAt: new Date() };
    await claims.insertOne(claim);
    const before = await storedState(patient, held.id);

    const res = await patient.api.post('/grants', {
      grants: [
        await batchItem(patient, doctor, a),
        await batchItem(patient, doctor, held),
        await batchItem(patient, doctor, c),
      ],
    });
    const { results } = grantBatchResponseSchema.parse(res.body);
    expect(
      results.map((r) => (r.status === 'shared' ? 'shared' : `${r.httpStatus} ${r.error.code}`)),
    ).toEqual(['shared', '409 version-conflict', 'shared']);
    expect(await storedState(patient, held.id)).toEqual(before);
    expect((await storedState(patient, c.id)).grants).toEqual([doctor.id]);

    await claims.deleteOne({ _id: claim._id });
    const again = grantBatchResponseSchema.parse(
      (
        await patient.api.post('/grants', {
          grants: [await batchItem(patient, doctor, held), await batchItem(patient, other, a)],
        })
      ).body,
    );
    expect(again.results.map((r) => r.status)).toEqual(['shared', 'shared']);
    expect((await storedState(patient, held.id)).grants).toEqual([doctor.id]);
  });

  it('when a record of a batch is read while the batch is still in flight, then it never names the grantee as a reader without her signed grant', async () => {
    const [a, held] = [
      await createRecordAs(patient, patient, [patient]),
      await createRecordAs(patient, patient, [patient]),
    ];
    const stored = await server.connection
      .collection<{ _id: string; rev: number }>('records')
      .findOne({ _id: held.id });
    const claims = server.connection.collection<{ _id: string; createdAt: Date }>('write_claims');
    const claim = { _id: `record:${held.id}:${(stored?.rev ?? 0) + 1}`, createdAt: new Date() };
    await claims.insertOne(claim);
    // The held record keeps the batch in flight (its splice retries) after a's splice.
    let done = false;
    const batch = patient.api
      .post('/grants', {
        grants: [await batchItem(patient, doctor, a), await batchItem(patient, doctor, held)],
      })
      .finally(() => (done = true));
    const seen: { reader: boolean; grant: boolean }[] = [];
    while (!done) {
      const state = await storedState(patient, a.id);
      seen.push({
        reader: state.recipients.some((r) => r.userId === doctor.id),
        grant: state.grants.includes(doctor.id),
      });
    }
    await batch;
    await claims.deleteOne({ _id: claim._id });
    const after = await storedState(patient, a.id);
    seen.push({
      reader: after.recipients.some((r) => r.userId === doctor.id),
      grant: after.grants.includes(doctor.id),
    });
    expect(seen.at(-1)).toEqual({ reader: true, grant: true });
    expect(seen.filter((s) => s.reader && !s.grant)).toEqual([]);
    // The held record's grant was written before its splice failed; it stays unread (the record does not name him).
    expect((await storedState(patient, held.id)).grants).toEqual([]);
  });

  it('when a batch is empty, too long, names one share twice or has an unknown field, then 400 and nothing is stored', async () => {
    const record = await createRecordAs(patient, patient, [patient]);
    const item = await batchItem(patient, doctor, record);
    const cases: [string, unknown][] = [
      ['empty', { grants: [] }],
      ['too long', { grants: Array.from({ length: MAX_GRANTS_PER_BATCH + 1 }, () => item) }],
      ['the same share twice', { grants: [item, item] }],
      ['unknown field', { grants: [{ ...item, ownerId: patient.id }] }],
    ];
    for (const [what, body] of cases) {
      const res = await patient.api.post('/grants', body);
      expect({ what, status: res.status }).toEqual({ what, status: 400 });
      expect(codeOf(res)).toBeDefined();
    }
    expect((await storedState(patient, record.id)).grants).toEqual([]);
    expect((await doctor.api.get(`/records/${record.id}`)).status).toBe(404);
  });

  it('when no one is logged in, then 401 and nothing is stored', async () => {
    const record = await createRecordAs(patient, patient, [patient]);
    const res = await new ApiClient(server.baseUrl).post('/grants', {
      grants: [await batchItem(patient, doctor, record)],
    });
    expect(res.status).toBe(401);
    expect((await storedState(patient, record.id)).grants).toEqual([]);
  });

  it('when a doctor shares in one batch a record he wrote for a patient (under her consent) and one he only reads, then the first is shared and the second refused as forbidden', async () => {
    const patient2 = await registerUser(server.baseUrl, { name: 'Nell NoConsent' });
    const record = await createRecordAs(doctor, patient, [patient, doctor]);
    const noConsent = await createRecordAs(patient2, patient2, [patient2]);
    await share(patient2, doctor, noConsent);
    // The doctor only reads patient2's record: not his to share.
    const res = await doctor.api.post('/grants', {
      grants: [
        await batchItem(doctor, other, record),
        {
          recordId: noConsent.id,
          ...(await grantBody(
            doctor,
            other,
            recordSchema.parse((await doctor.api.get(`/records/${noConsent.id}`)).body),
          )),
        },
      ],
    });
    const { results } = grantBatchResponseSchema.parse(res.body);
    expect(results.map((r) => (r.status === 'shared' ? 'shared' : r.error.code))).toEqual([
      'shared',
      'forbidden',
    ]);
  });
});
