import {
  checkEncryptedTo,
  createRecipientPacket,
  createSessionKey,
  recipientPackets,
  sealFile,
  sealRecord,
  type RecordId,
  type UserId,
} from '@medseal/crypto';
import {
  MAX_RECORD_READERS,
  accessListResponseSchema,
  attachmentPacketsResponseSchema,
  recordListResponseSchema,
  recordSchema,
} from '@medseal/contract';
import type { AttachmentDoc, ChunkDoc } from '../src/components/records/model';
import { ApiClient, codeOf } from './helpers/client';
import { encryptTo } from './helpers/pgp';
import { hookedInto, storedOf } from './helpers/hooks';
import { createRecordAs, grantBody, recipientsOf, sealFor, share } from './helpers/records';
import { registerUser, type TestUser } from './helpers/users';
import { freshTestDatabaseUri } from '@medseal/devdb/test-database';
import { startTestServer, type TestServer } from './support';
import { giveConsent } from './helpers/consents';
import { ListingFeed } from '../src/components/records/feed';

let server: TestServer;
/** A second server process on the same database, with no read cache (it never holds a stale copy). */
let second: TestServer;
let patient: TestUser;
let doctor: TestUser;
let other: TestUser;
beforeAll(async () => {
  const uri = freshTestDatabaseUri('sharing');
  server = await startTestServer({ mongoUri: uri });
  second = await startTestServer({
    mongoUri: uri,
    settings: { ...server.settings, readCacheTtlMs: 0 },
  });
  patient = await registerUser(server.baseUrl, { name: 'Pia Patient' });
  doctor = await registerUser(server.baseUrl, { name: 'Dr Who', role: 'doctor' });
  await giveConsent(patient, doctor);
  other = await registerUser(server.baseUrl, { name: 'Olga Other' });
});
afterAll(async () => {
  await second.close();
  await server.close();
});

/** A patient's record at version 2 whose message and one file (of `bytes`) share a session key. */
async function patientRecordWithFile(
  bytes: number,
): Promise<{ record: { id: string; message: string }; attachmentId: string }> {
  const sessionKey = createSessionKey();
  const created = await createRecordAs(patient, patient, [patient]);
  const { message } = await sealRecord({
    envelope: {
      recordId: created.id as RecordId,
      version: 2,
      ownerId: patient.id as UserId,
      authorId: patient.id as UserId,
      createdAt: new Date().toISOString(),
      content: { title: 'scan' },
    },
    authorKey: patient.key.privateKey,
    recipientKeys: [patient.publicKey],
    sessionKey,
  });
  expect(
    (
      await patient.api.put(`/records/${created.id}`, {
        baseVersion: 1,
        recipients: recipientsOf(patient),
        message,
      })
    ).status,
  ).toBe(200);
  const file = await sealFile({
    data: new Uint8Array(bytes).fill(3),
    authorKey: patient.key.privateKey,
    recipientKeys: [patient.publicKey],
    sessionKey,
  });
  const up = await patient.api.request('POST', `/records/${created.id}/attachments`, {
    raw: { data: file.message, contentType: 'application/octet-stream' },
  });
  expect(up.status).toBe(201);
  return { record: { id: created.id, message }, attachmentId: (up.body as { id: string }).id };
}

/** The ids of an attachment's stored chunks, in order (`<attachmentId>:<gen>:<n>`: a rewrite writes new ones). */
async function storedChunkIds(attachmentId: string): Promise<string[]> {
  const chunks = await server.connection
    .collection<ChunkDoc>('attachment_chunks')
    .find({ attachmentId }, { projection: { _id: 1, n: 1 } })
    .sort({ n: 1 })
    .toArray();
  return chunks.map((c) => c._id);
}

/** The patient's version 2 of her record, for herself alone (a re-key after a revoke, or an edit that drops its readers). */
async function versionForHerAlone(recordId: string) {
  return patient.api.put(`/records/${recordId}`, {
    baseVersion: 1,
    recipients: recipientsOf(patient),
    message: await sealFor({
      recordId,
      version: 2,
      owner: patient,
      author: patient,
      readers: [patient],
    }),
  });
}

/** A record document as stored (null when none). */
function storedRecord(recordId: string) {
  return server.connection
    .collection<{ _id: string; rev: number }>('records')
    .findOne({ _id: recordId });
}

/** Resolves once the claim `id` is stored (a writer holds it); throws after 5 s without it. */
async function claimStored(id: string): Promise<void> {
  const claims = server.connection.collection<{ _id: string }>('write_claims');
  for (const until = Date.now() + 5_000; !(await claims.findOne({ _id: id }));) {
    if (Date.now() > until) throw new Error(`the claim ${id} was never taken`);
    await new Promise((r) => setTimeout(r, 5));
  }
}

/** The grant document of a record's reader, as stored (null when none). */
function storedGrant(recordId: string, userId: string) {
  return server.connection
    .collection<{ _id: string; signedGrant: string }>('grants')
    .findOne({ _id: `${recordId}:${userId}` });
}

describe('sharing', () => {
  it('when the owner shares, then the PKESK is spliced into the stored message, the doctor can fetch it, and the access list shows the signed grant', async () => {
    const record = await createRecordAs(patient, patient, [patient]);
    expect((await doctor.api.get(`/records/${record.id}`)).status).toBe(404);
    const body = await grantBody(patient, doctor, record);
    const res = await patient.api.post(`/records/${record.id}/grants`, body);
    expect(res.status).toBe(201);

    const got = recordSchema.parse((await doctor.api.get(`/records/${record.id}`)).body);
    await expect(
      checkEncryptedTo(got.message, [patient.publicKey, doctor.publicKey], { maxBytes: 1 << 20 }),
    ).resolves.toBeDefined();
    expect(got.recipients).toEqual(recipientsOf(patient, doctor));
    const access = accessListResponseSchema.parse(
      (await patient.api.get(`/records/${record.id}/access`)).body,
    );
    expect(access.entries.map((e) => [e.userId, e.via])).toEqual([
      [patient.id, 'owner'],
      [doctor.id, 'grant'],
    ]);
    expect(access.entries[1]?.signedGrant).toBe(body.signedGrant);
    expect(
      recordListResponseSchema
        .parse((await doctor.api.get('/records')).body)
        .records.map((r) => r.id),
    ).toContain(record.id);
  });

  it('when a record with an attachment under the same session key is shared, then the attachment gets the packet too, and its stored chunks are not rewritten', async () => {
    const { record, attachmentId } = await patientRecordWithFile(1_200_000);
    const chunksBefore = await storedChunkIds(attachmentId);
    expect(chunksBefore).toEqual([`${attachmentId}:1:0`, `${attachmentId}:1:1`]);
    expect(
      (
        await patient.api.post(
          `/records/${record.id}/grants`,
          await grantBody(patient, doctor, record),
        )
      ).status,
    ).toBe(201);
    const down = await doctor.api.get(`/records/${record.id}/attachments/${attachmentId}`);
    const listed = recordSchema.parse(
      (await doctor.api.get(`/records/${record.id}`)).body,
    ).attachments;
    expect(down.status).toBe(200);
    expect(listed.map((a) => a.size)).toEqual([(down.body as Uint8Array).length]);
    await expect(
      checkEncryptedTo(down.body as Uint8Array, [patient.publicKey, doctor.publicKey], {
        maxBytes: 1 << 24,
      }),
    ).resolves.toBeDefined();
    expect(await storedChunkIds(attachmentId)).toEqual(chunksBefore);
  });

  it('when an attachment stored whole by an earlier version (no packets kept apart) is downloaded, asked for its packets and shared, then it is served unchanged and split once on the first share', async () => {
    const { record, attachmentId } = await patientRecordWithFile(300_000);
    const whole = (await patient.api.get(`/records/${record.id}/attachments/${attachmentId}`))
      .body as Uint8Array;
    // Store it as earlier versions did: the whole message in the chunks, no `packets` field.
    const attachments = server.connection.collection<AttachmentDoc>('attachments');
    const chunks = server.connection.collection<ChunkDoc>('attachment_chunks');
    await chunks.deleteMany({ attachmentId });
    await chunks.insertOne({
      _id: `${attachmentId}:1:0`,
      attachmentId,
      recordId: record.id,
      gen: 1,
      n: 0,
      data: Buffer.from(whole),
    });
    await attachments.updateOne(
      { _id: attachmentId },
      { $unset: { packets: '' }, $set: { gen: 1, chunkCount: 1, size: whole.length } },
    );

    const served = (await patient.api.get(`/records/${record.id}/attachments/${attachmentId}`))
      .body as Uint8Array;
    // Compared natively: jest's deep equality walks 300 KB element by element (8 s under load).
    expect(Buffer.compare(served, whole)).toBe(0);
    const { packets } = attachmentPacketsResponseSchema.parse(
      (await patient.api.get(`/records/${record.id}/attachments/${attachmentId}/packets`)).body,
    );
    expect(packets).toEqual(recipientPackets(whole));
    expect(
      (
        await patient.api.post(
          `/records/${record.id}/grants`,
          await grantBody(patient, doctor, record),
        )
      ).status,
    ).toBe(201);
    const down = (await doctor.api.get(`/records/${record.id}/attachments/${attachmentId}`))
      .body as Uint8Array;
    await expect(
      checkEncryptedTo(down, [patient.publicKey, doctor.publicKey], { maxBytes: 1 << 24 }),
    ).resolves.toBeDefined();
    const split = await attachments.findOne({ _id: attachmentId });
    expect(split).toMatchObject({ gen: 2, packets: recipientPackets(down), size: down.length });
    expect(await storedChunkIds(attachmentId)).toEqual([`${attachmentId}:2:0`]);
  });

  it("when the owner asks for a file's session key packets, then they are its PKESKs, enough to share the file; a reader gets the same packets (they are in the file she reads) and a stranger 404", async () => {
    const { record, attachmentId } = await patientRecordWithFile(3_000_000);
    const path = `/records/${record.id}/attachments/${attachmentId}/packets`;
    const res = await patient.api.get(path);
    expect(res.status).toBe(200);
    const { packets } = attachmentPacketsResponseSchema.parse(res.body);
    const stored = (await patient.api.get(`/records/${record.id}/attachments/${attachmentId}`))
      .body as Uint8Array;
    expect(packets).toEqual(recipientPackets(stored));
    const forDoctor = await createRecipientPacket({
      recipientPackets: packets,
      myKey: patient.key.privateKey,
      newRecipientKey: doctor.publicKey,
    });
    const body = {
      ...(await grantBody(patient, doctor, record)),
      attachmentPackets: { [attachmentId]: forDoctor },
    };
    expect((await patient.api.post(`/records/${record.id}/grants`, body)).status).toBe(201);
    const down = await doctor.api.get(`/records/${record.id}/attachments/${attachmentId}`);
    await expect(
      checkEncryptedTo(down.body as Uint8Array, [patient.publicKey, doctor.publicKey], {
        maxBytes: 1 << 24,
      }),
    ).resolves.toBeDefined();
    // A reader (a team admin re-keying files, say) gets them too: nothing the file she downloads lacks.
    const forReader = await doctor.api.get(path);
    expect(forReader.status).toBe(200);
    expect(attachmentPacketsResponseSchema.parse(forReader.body).packets).toEqual(
      recipientPackets(down.body as Uint8Array),
    );
    expect(codeOf(await other.api.get(path))).toBe('record-not-found');
    expect(
      codeOf(await patient.api.get(`/records/${record.id}/attachments/${'A'.repeat(22)}/packets`)),
    ).toBe('attachment-not-found');
  });

  it('when two grants of a record with a file race, then both succeed and the file is encrypted to both grantees', async () => {
    for (let round = 0; round < 2; round++) {
      const { record, attachmentId } = await patientRecordWithFile(2_000_000);
      const [toDoctor, toOther] = await Promise.all([
        grantBody(patient, doctor, record),
        grantBody(patient, other, record),
      ]);
      const answers = await Promise.all([
        patient.api.post(`/records/${record.id}/grants`, toDoctor),
        patient.api.post(`/records/${record.id}/grants`, toOther),
      ]);
      expect([round, ...answers.map((a) => a.status)]).toEqual([round, 201, 201]);
      const down = await other.api.get(`/records/${record.id}/attachments/${attachmentId}`);
      await expect(
        checkEncryptedTo(
          down.body as Uint8Array,
          [patient.publicKey, doctor.publicKey, other.publicKey],
          { maxBytes: 1 << 24 },
        ),
      ).resolves.toBeDefined();
    }
  });

  it('when access is revoked, then the doctor gets 404 at once, the record leaves their list, and the owner re-keys the next version', async () => {
    const record = await createRecordAs(patient, patient, [patient]);
    await share(patient, doctor, record);
    expect((await doctor.api.get(`/records/${record.id}`)).status).toBe(200);
    expect((await patient.api.delete(`/records/${record.id}/grants/${doctor.id}`)).status).toBe(
      204,
    );
    expect(await storedGrant(record.id, doctor.id)).toBeNull();
    const after = await doctor.api.get(`/records/${record.id}`);
    expect(after.status).toBe(404);
    expect(JSON.stringify(after.body)).not.toContain('PGP');
    expect(
      recordListResponseSchema
        .parse((await doctor.api.get('/records')).body)
        .records.map((r) => r.id),
    ).not.toContain(record.id);
    expect((await versionForHerAlone(record.id)).status).toBe(200);
  });

  it('when access is revoked and granted again before the re-keyed version, then the doctor reads it again and the message keeps one packet for them', async () => {
    const record = await createRecordAs(patient, patient, [patient]);
    await share(patient, doctor, record);
    expect((await patient.api.delete(`/records/${record.id}/grants/${doctor.id}`)).status).toBe(
      204,
    );
    const stored = recordSchema.parse((await patient.api.get(`/records/${record.id}`)).body);
    expect(
      (
        await patient.api.post(
          `/records/${record.id}/grants`,
          await grantBody(patient, doctor, stored),
        )
      ).status,
    ).toBe(201);
    const got = recordSchema.parse((await doctor.api.get(`/records/${record.id}`)).body);
    await expect(
      checkEncryptedTo(got.message, [patient.publicKey, doctor.publicKey], { maxBytes: 1 << 20 }),
    ).resolves.toBeDefined();
  });

  it('when an edit drops a reader, then her grant is deleted with her', async () => {
    const record = await createRecordAs(patient, patient, [patient]);
    await share(patient, doctor, record);
    expect(await storedGrant(record.id, doctor.id)).not.toBeNull();
    expect((await versionForHerAlone(record.id)).status).toBe(200);
    expect(await storedGrant(record.id, doctor.id)).toBeNull();
  });

  // A re-share is accepted once the record no longer names the doctor, so it can come between a
  // revoke's (or a reader-dropping edit's) record update and its grant delete. It is run right
  // there (hooked into the model the first process deletes with), from her other device through
  // the second process: it must wait under its own rev claim until the delete is done, and only
  // then write its grant.
  it.each([
    ['a revoke', (id: string) => patient.api.delete(`/records/${id}/grants/${doctor.id}`), 204],
    ['an edit that drops the reader', versionForHerAlone, 200],
  ] as const)(
    'when the doctor is shared with again just after %s took her off, then the share waits for the grant delete and its new grant stays',
    async (_, takeOff, status) => {
      const record = await createRecordAs(patient, patient, [patient]);
      await share(patient, doctor, record);
      const first = await storedGrant(record.id, doctor.id);
      const model = server.connection.models.Grant;
      if (!model) throw new Error('Grant model not registered');
      let again: { signedGrant: string } | undefined;
      let sharedAgain: Promise<number> | undefined;
      let storedWhileWaiting: unknown;
      // From her other device, through the second process.
      const onSecond = new ApiClient(second.baseUrl);
      onSecond.cookie = patient.api.cookie;
      const shareAgain = async () => {
        const stored = recordSchema.parse((await onSecond.get(`/records/${record.id}`)).body);
        expect(stored.recipients.map((r) => r.userId)).toEqual([patient.id]);
        again = await grantBody(patient, doctor, stored);
        return (await onSecond.post(`/records/${record.id}/grants`, again)).status;
      };
      // Before the first grant delete of either kind, once: the re-share starts and takes the
      // record's next rev claim; what is stored for her then is still the grant being deleted.
      const spies = (['deleteOne', 'deleteMany'] as const).map((method) => {
        const original = model[method].bind(model);
        return jest.spyOn(model, method).mockImplementation((async (...args: never[]) => {
          for (const spy of spies) spy.mockRestore();
          sharedAgain = shareAgain();
          const { rev } = (await storedRecord(record.id)) ?? { rev: NaN };
          await claimStored(`record:${record.id}:${rev + 1}`);
          storedWhileWaiting = (await storedGrant(record.id, doctor.id))?.signedGrant;
          return original(...args);
        }) as never);
      });
      try {
        expect((await takeOff(record.id)).status).toBe(status);
      } finally {
        for (const spy of spies) spy.mockRestore();
      }
      expect(await sharedAgain).toBe(201);
      expect(storedWhileWaiting).toBe(first?.signedGrant);
      const access = accessListResponseSchema.parse(
        (await patient.api.get(`/records/${record.id}/access`)).body,
      );
      expect(access.entries.find((e) => e.userId === doctor.id)).toMatchObject({
        via: 'grant',
        signedGrant: again?.signedGrant,
      });
      expect((await doctor.api.get(`/records/${record.id}`)).status).toBe(200);
    },
  );

  it('when the change before left its claim behind (its writer died after its update), then a share goes through once that claim is a minute old', async () => {
    const record = await createRecordAs(patient, patient, [patient]);
    const { rev } = (await storedRecord(record.id)) ?? { rev: NaN };
    await server.connection
      .collection<{ _id: string; createdAt: Date }>('write_claims')
      .insertOne({ _id: `record:${record.id}:${rev}`, createdAt: new Date(Date.now() - 61_000) });
    await share(patient, doctor, record);
    expect((await doctor.api.get(`/records/${record.id}`)).status).toBe(200);
  });

  // Two shares of the doctor prepared while she is not a reader: the second is held after its
  // checks while the first lands and a revoke takes her off again. The second then makes her a
  // reader, and with its own grant (its grant was written before its splice, and the revoke
  // deleted it: the record named her with no signed grant).
  it('when a share checked before an earlier share of the same person and a revoke lands after both, then the record names her with its grant', async () => {
    const record = await createRecordAs(patient, patient, [patient]);
    const late = await grantBody(patient, doctor, record);
    const onSecond = new ApiClient(second.baseUrl);
    onSecond.cookie = patient.api.cookie;
    // The held share's first step after its checks is listing the record for her.
    const spy = jest.spyOn(ListingFeed.prototype, 'add').mockImplementationOnce(async function (
      this: ListingFeed,
      ...args
    ) {
      spy.mockRestore();
      const stored = recordSchema.parse((await onSecond.get(`/records/${record.id}`)).body);
      expect(
        (
          await onSecond.post(
            `/records/${record.id}/grants`,
            await grantBody(patient, doctor, stored),
          )
        ).status,
      ).toBe(201);
      expect((await onSecond.delete(`/records/${record.id}/grants/${doctor.id}`)).status).toBe(204);
      return this.add(...args);
    });
    try {
      expect((await patient.api.post(`/records/${record.id}/grants`, late)).status).toBe(201);
    } finally {
      spy.mockRestore();
    }
    const access = accessListResponseSchema.parse(
      (await patient.api.get(`/records/${record.id}/access`)).body,
    );
    expect(access.entries.find((e) => e.userId === doctor.id)).toMatchObject({
      via: 'grant',
      signedGrant: late.signedGrant,
    });
  });

  it('when a revoke and grants race on one record, then the revoked user stays off and exactly the granted users are on', async () => {
    const grantees = [
      other,
      await registerUser(server.baseUrl, { name: 'Gus Grantee' }),
      await registerUser(server.baseUrl, { name: 'Hal Helper' }),
    ];
    for (let round = 0; round < 4; round++) {
      const record = await createRecordAs(patient, patient, [patient]);
      await share(patient, doctor, record);
      const stored = recordSchema.parse((await patient.api.get(`/records/${record.id}`)).body);
      const bodies = await Promise.all(grantees.map((g) => grantBody(patient, g, stored)));
      const [revoked, ...granted] = await Promise.all([
        patient.api.delete(`/records/${record.id}/grants/${doctor.id}`),
        ...bodies.map((b) => patient.api.post(`/records/${record.id}/grants`, b)),
      ]);
      expect([round, revoked?.status]).toEqual([round, 204]);
      // A grant that kept losing the race may give up with 409; none may half-happen.
      for (const g of granted) expect([201, 409]).toContain(g.status);
      const expected = [
        patient.id,
        ...grantees.filter((_, i) => granted[i]?.status === 201).map((g) => g.id),
      ].sort();
      const now = recordSchema.parse((await patient.api.get(`/records/${record.id}`)).body);
      expect([round, now.recipients.map((r) => r.userId).sort()]).toEqual([round, expected]);
      expect([round, (await doctor.api.get(`/records/${record.id}`)).status]).toEqual([round, 404]);
      await expect(
        checkEncryptedTo(
          now.message,
          [patient, doctor, ...grantees.filter((g) => expected.includes(g.id))].map(
            (u) => u.publicKey,
          ),
          { maxBytes: 1 << 20 },
        ),
      ).resolves.toBeDefined();
    }
  });

  it('when the grant or packet is wrong, then 400 with its code and the stored message is unchanged', async () => {
    const record = await createRecordAs(patient, patient, [patient]);
    const good = await grantBody(patient, doctor, record);
    const forOther = await grantBody(patient, other, record);
    const otherRecord = await createRecordAs(patient, patient, [patient]);
    const forOtherRecord = await grantBody(patient, doctor, otherRecord);

    const cases: [string, object, string][] = [
      ['packet for another key', { ...good, pkesk: forOther.pkesk }, 'recipient-mismatch'],
      ['grant names another grantee', { ...good, signedGrant: forOther.signedGrant }, 'bad-grant'],
      [
        'grant for another record',
        { ...good, signedGrant: forOtherRecord.signedGrant },
        'bad-grant',
      ],
      ['packet not base64url PKESK', { ...good, pkesk: 'AAAAAAAAAAAAAAAAAAAA' }, 'not-a-message'],
      [
        'grant not signed',
        { ...good, signedGrant: '-----BEGIN PGP MESSAGE-----\n\nxx\n-----END PGP MESSAGE-----' },
        'bad-signature',
      ],
    ];
    for (const [what, body, code] of cases) {
      const res = await patient.api.post(`/records/${record.id}/grants`, body);
      expect({ what, status: res.status, code: codeOf(res) }).toEqual({ what, status: 400, code });
    }
    const stored = recordSchema.parse((await patient.api.get(`/records/${record.id}`)).body);
    expect(stored.message).toBe(record.message);
    expect(stored.recipients).toEqual(recipientsOf(patient));
  });

  it("when a share's file packet names a file the record lacks or is for another key, then 400, no grant is stored, and a permanent delete leaves none of the record's grants", async () => {
    const { record, attachmentId } = await patientRecordWithFile(1_000);
    const { packets } = attachmentPacketsResponseSchema.parse(
      (await patient.api.get(`/records/${record.id}/attachments/${attachmentId}/packets`)).body,
    );
    const packetFor = (key: string) =>
      createRecipientPacket({
        recipientPackets: packets,
        myKey: patient.key.privateKey,
        newRecipientKey: key,
      });
    const good = await grantBody(patient, doctor, record);
    const grants = server.connection.collection('grants');
    for (const [what, attachmentPackets, code] of [
      [
        'file the record lacks',
        { ['A'.repeat(22)]: await packetFor(doctor.publicKey) },
        'bad-grant',
      ],
      [
        'packet for another key',
        { [attachmentId]: await packetFor(other.publicKey) },
        'recipient-mismatch',
      ],
    ] as const) {
      const res = await patient.api.post(`/records/${record.id}/grants`, {
        ...good,
        attachmentPackets,
      });
      expect({ what, status: res.status, code: codeOf(res) }).toEqual({ what, status: 400, code });
      expect({
        what,
        grants: await grants.countDocuments({ recordId: record.id } as never),
      }).toEqual({ what, grants: 0 });
    }
    expect((await patient.api.delete(`/records/${record.id}`)).status).toBe(204);
    expect(await grants.countDocuments({ recordId: record.id } as never)).toBe(0);
  });

  // A share writes its grant under the record's rev claim, then splices; a permanent delete
  // removes the record, then the grants of the readers it read. One run between the two (hooked
  // into the grant write) finds no grant for the new reader.
  it('when the owner deletes the record while a share of it is being stored, then the share answers 404 and no grant of the record is left', async () => {
    const record = await createRecordAs(patient, patient, [patient]);
    const body = await grantBody(patient, doctor, record);
    const { answer, ran } = await hookedInto(
      server.connection,
      { model: 'Grant', method: 'replaceOne', at: 'after' },
      async () => (await patient.api.delete(`/records/${record.id}`)).status,
      () => patient.api.post(`/records/${record.id}/grants`, body),
    );
    expect(ran).toBe(204);
    expect({ status: answer.status, code: codeOf(answer) }).toEqual({
      status: 404,
      code: 'record-not-found',
    });
    expect(await storedOf(server.connection, record.id, ['grants'])).toEqual({ grants: 0 });
  });

  // An upload is checked against the record's readers, then its chunks are written, then its
  // document: a share landing in between (hooked into the chunk writes) lists the record's files
  // without it, so the new reader would have no packet for the file.
  it('when a share lands while a file is being stored, then the upload is 409 version-conflict and nothing of the file is left', async () => {
    const record = await createRecordAs(patient, patient, [patient]);
    const file = await encryptTo([patient.publicKey], 'x-ray bytes', { armor: false });
    const { answer } = await hookedInto(
      server.connection,
      { model: 'AttachmentChunk', method: 'create', at: 'before' },
      () => share(patient, doctor, record),
      () =>
        patient.api.request('POST', `/records/${record.id}/attachments`, {
          raw: { data: new Uint8Array(file), contentType: 'application/octet-stream' },
        }),
    );
    expect({ status: answer.status, code: codeOf(answer) }).toEqual({
      status: 409,
      code: 'version-conflict',
    });
    expect(
      await storedOf(server.connection, record.id, ['attachments', 'attachment_chunks']),
    ).toEqual({ attachments: 0, attachment_chunks: 0 });
    expect((await doctor.api.get(`/records/${record.id}`)).status).toBe(200);
  });

  // Creates and updates name at most MAX_RECORD_READERS; a share past it would leave a record no
  // one could write again with everyone on it.
  it('when a record already has as many readers as a version may name, then a share is 400 too-many-readers and nothing is stored', async () => {
    const record = await createRecordAs(patient, patient, [patient]);
    const records = server.connection.collection<{ _id: string; readerIds: string[] }>('records');
    const others = Array.from({ length: MAX_RECORD_READERS - 1 }, (_, i) => `reader-${i}`);
    await records.updateOne({ _id: record.id }, { $set: { readerIds: [patient.id, ...others] } });
    const before = await storedRecord(record.id);
    const res = await patient.api.post(
      `/records/${record.id}/grants`,
      await grantBody(patient, doctor, record),
    );
    expect({ status: res.status, code: codeOf(res) }).toEqual({
      status: 400,
      code: 'too-many-readers',
    });
    expect(await storedRecord(record.id)).toEqual(before);
    expect(await storedGrant(record.id, doctor.id)).toBeNull();
  });

  it('when a grant is signed by someone other than the sharer, then 400 bad-signature', async () => {
    const record = await createRecordAs(doctor, patient, [patient, doctor]);
    // The doctor (author) makes the packet, but the grant is signed by another user claiming to be the patient.
    const pkesk = await createRecipientPacket({
      message: record.message,
      myKey: doctor.key.privateKey,
      newRecipientKey: other.publicKey,
    });
    const forged = await grantBody(patient, other, record);
    const res = await doctor.api.post(`/records/${record.id}/grants`, { ...forged, pkesk });
    expect(res.status).toBe(400);
    expect(['bad-signature', 'bad-grant']).toContain(codeOf(res));
  });
});
