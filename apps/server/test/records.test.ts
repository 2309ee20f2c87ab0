import { randomBytes } from 'node:crypto';
import { readPublicKey } from '@medseal/crypto';
import {
  MAX_ATTACHMENT_BYTES,
  MAX_FILE_SIZE_BYTES,
  auditTrailResponseSchema,
  recordHistoryResponseSchema,
  recordListResponseSchema,
  recordSchema,
  type RecordDto,
} from '@medseal/contract';
import { codeOf } from './helpers/client';
import { hookedInto, storedOf } from './helpers/hooks';
import { armoredTo, encryptTo } from './helpers/pgp';
import { grantBody, share } from './helpers/records';
import { newRecordId, registerUser, type TestUser } from './helpers/users';
import { startTestServer, type TestServer } from './support';
import { giveConsent } from './helpers/consents';

let server: TestServer;
let patient: TestUser;
let doctor: TestUser;
/** How far the server's clock runs ahead (grant expiry is held against it): tests move it instead of sleeping. */
let clockAheadMs = 0;
beforeAll(async () => {
  server = await startTestServer({ settings: { clock: () => Date.now() + clockAheadMs } });
  patient = await registerUser(server.baseUrl, { name: 'Paula Patient' });
  doctor = await registerUser(server.baseUrl, { name: 'Dr Dora', role: 'doctor' });
  await giveConsent(patient, doctor);
});
afterAll(() => server.close());

const to = (...users: TestUser[]) =>
  users.map((u) => ({ userId: u.id, fingerprint: u.fingerprint }));

async function createRecord(
  author: TestUser,
  owner: TestUser,
  readers: TestUser[],
): Promise<RecordDto> {
  const res = await author.api.post('/records', {
    recordId: newRecordId(),
    ownerId: owner.id,
    recipients: to(...readers),
    message: await armoredTo(readers.map((u) => u.publicKey)),
  });
  expect(res.status).toBe(201);
  return recordSchema.parse(res.body);
}

describe('records', () => {
  it('when a patient stores a record encrypted to herself, then it reads back byte for byte and is in her list', async () => {
    const message = await armoredTo([patient.publicKey]);
    const recordId = newRecordId();
    const res = await patient.api.post('/records', {
      recordId,
      ownerId: patient.id,
      recipients: to(patient),
      message,
    });
    expect(res.status).toBe(201);
    const got = recordSchema.parse((await patient.api.get(`/records/${recordId}`)).body);
    expect(got).toMatchObject({
      id: recordId,
      ownerId: patient.id,
      authorId: patient.id,
      version: 1,
      message,
    });
    const list = recordListResponseSchema.parse((await patient.api.get('/records')).body);
    expect(list.records.map((r) => r.id)).toContain(recordId);
  });

  it('when a doctor writes a record for a patient, then both list it; a patient may not write for someone else', async () => {
    const record = await createRecord(doctor, patient, [patient, doctor]);
    expect(
      recordListResponseSchema
        .parse((await patient.api.get('/records')).body)
        .records.map((r) => r.id),
    ).toContain(record.id);
    expect(
      recordListResponseSchema
        .parse((await doctor.api.get('/records')).body)
        .records.map((r) => r.id),
    ).toContain(record.id);

    const other = await registerUser(server.baseUrl, { name: 'Other Patient' });
    const res = await patient.api.post('/records', {
      recordId: newRecordId(),
      ownerId: other.id,
      recipients: to(other, patient),
      message: await armoredTo([other.publicKey, patient.publicKey]),
    });
    expect(res.status).toBe(400);
    expect(codeOf(res)).toBe('owner-not-patient');
  });

  it('when the list is paged, then pages are newest first without overlap', async () => {
    const pager = await registerUser(server.baseUrl, { name: 'Pager' });
    const ids: string[] = [];
    for (let i = 0; i < 5; i++) ids.push((await createRecord(pager, pager, [pager])).id);
    const first = recordListResponseSchema.parse((await pager.api.get('/records?limit=2')).body);
    expect(first.records.map((r) => r.id)).toEqual([ids[4], ids[3]]);
    const second = recordListResponseSchema.parse(
      (await pager.api.get(`/records?limit=2&before=${first.nextCursor}`)).body,
    );
    expect(second.records.map((r) => r.id)).toEqual([ids[2], ids[1]]);
    const third = recordListResponseSchema.parse(
      (await pager.api.get(`/records?limit=2&before=${second.nextCursor}`)).body,
    );
    expect(third.records.map((r) => r.id)).toEqual([ids[0]]);
    expect(third.nextCursor).toBeUndefined();
  });

  it('when a user has 120 records, then a full page of 100 answers (each listed record audited) and the next page holds the other 20', async () => {
    const reader = await registerUser(server.baseUrl, { name: 'Many Records' });
    const message = await armoredTo([reader.publicKey]);
    for (let i = 0; i < 120; i++) {
      const res = await reader.api.post('/records', {
        recordId: newRecordId(),
        ownerId: reader.id,
        recipients: to(reader),
        message,
      });
      expect(res.status).toBe(201);
    }
    const first = recordListResponseSchema.parse((await reader.api.get('/records?limit=100')).body);
    expect(first.records).toHaveLength(100);
    const second = recordListResponseSchema.parse(
      (await reader.api.get(`/records?limit=100&before=${first.nextCursor}`)).body,
    );
    expect(second.records).toHaveLength(20);
    const newest = first.records[0]?.id ?? '';
    const trail = auditTrailResponseSchema.parse(
      (await reader.api.get(`/audit/records/${newest}`)).body,
    );
    expect(trail.events.map((e) => e.action)).toEqual(['create', 'list']);
  });

  it('when a record is updated from its current version, then the version goes up and history keeps every version', async () => {
    const record = await createRecord(patient, patient, [patient]);
    const message2 = await armoredTo([patient.publicKey], 'second');
    const res = await patient.api.put(`/records/${record.id}`, {
      baseVersion: 1,
      recipients: to(patient),
      message: message2,
    });
    expect(res.status).toBe(200);
    expect(recordSchema.parse(res.body)).toMatchObject({ version: 2, message: message2 });
    const history = recordHistoryResponseSchema.parse(
      (await patient.api.get(`/records/${record.id}/versions`)).body,
    );
    expect(history.versions.map((v) => v.version)).toEqual([1, 2]);
    const v1 = await patient.api.get(`/records/${record.id}/versions/1`);
    expect((v1.body as { message: string }).message).toBe(record.message);
  });

  it('when two updates are based on the same version, then one succeeds, the other gets 409 and history has no gaps', async () => {
    const record = await createRecord(patient, patient, [patient]);
    const [a, b] = await Promise.all([
      armoredTo([patient.publicKey], 'a'),
      armoredTo([patient.publicKey], 'b'),
    ]);
    const results = await Promise.all([
      patient.api.put(`/records/${record.id}`, {
        baseVersion: 1,
        recipients: to(patient),
        message: a,
      }),
      patient.api.put(`/records/${record.id}`, {
        baseVersion: 1,
        recipients: to(patient),
        message: b,
      }),
    ]);
    expect(results.map((r) => r.status).sort()).toEqual([200, 409]);
    expect(codeOf(results.find((r) => r.status === 409) ?? results[0])).toBe('version-conflict');
    const history = recordHistoryResponseSchema.parse(
      (await patient.api.get(`/records/${record.id}/versions`)).body,
    );
    expect(history.versions.map((v) => v.version)).toEqual([1, 2]);
    const current = recordSchema.parse((await patient.api.get(`/records/${record.id}`)).body);
    const winner = results.findIndex((r) => r.status === 200);
    expect(current.message).toBe(winner === 0 ? a : b);
  });

  it('when one of two grants to a reader has expired, then she lists and reads only the other record', async () => {
    const reader = await registerUser(server.baseUrl, { name: 'Brief Reader' });
    const kept = await createRecord(patient, patient, [patient]);
    const brief = await createRecord(patient, patient, [patient]);
    await share(patient, reader, kept);
    const expiresAt = new Date(Date.now() + 60_000);
    expect(
      (
        await patient.api.post(
          `/records/${brief.id}/grants`,
          await grantBody(patient, reader, brief, { expiresAt }),
        )
      ).status,
    ).toBe(201);
    const listed = async () =>
      recordListResponseSchema
        .parse((await reader.api.get('/records')).body)
        .records.map((r) => r.id)
        .sort();
    expect(await listed()).toEqual([kept.id, brief.id].sort());
    expect((await reader.api.get(`/records/${brief.id}`)).status).toBe(200);
    clockAheadMs = expiresAt.getTime() - Date.now() + 1_000;
    try {
      expect(await listed()).toEqual([kept.id]);
      expect((await reader.api.get(`/records/${brief.id}`)).status).toBe(404);
    } finally {
      clockAheadMs = 0;
    }
  });

  it('when the doctor who wrote a record is taken off and shared with again until a time, then past it he neither reads, lists nor edits it', async () => {
    const note = await createRecord(doctor, patient, [patient, doctor]);
    expect((await patient.api.delete(`/records/${note.id}/grants/${doctor.id}`)).status).toBe(204);
    const expiresAt = new Date(Date.now() + 60_000);
    const again = await patient.api.post(
      `/records/${note.id}/grants`,
      await grantBody(patient, doctor, note, { expiresAt }),
    );
    expect(again.status).toBe(201);
    const listed = async () =>
      recordListResponseSchema
        .parse((await doctor.api.get('/records')).body)
        .records.map((r) => r.id);
    expect(await listed()).toContain(note.id);
    clockAheadMs = expiresAt.getTime() - Date.now() + 1_000;
    try {
      expect((await doctor.api.get(`/records/${note.id}`)).status).toBe(404);
      expect((await doctor.api.get(`/records/${note.id}/versions`)).status).toBe(404);
      expect(await listed()).not.toContain(note.id);
      const edit = await doctor.api.put(`/records/${note.id}`, {
        baseVersion: 1,
        recipients: to(patient, doctor),
        message: await armoredTo([patient.publicKey, doctor.publicKey]),
      });
      expect(edit.status).toBe(404);
    } finally {
      clockAheadMs = 0;
    }
  });

  it('when a record is deleted, then it, its versions, grants and attachments are gone and the audit trail keeps that it happened', async () => {
    const record = await createRecord(patient, patient, [patient]);
    await share(patient, doctor, record);
    expect(
      await server.connection.collection('grants').countDocuments({ recordId: record.id } as never),
    ).toBe(1);
    const file = await encryptTo([patient.publicKey, doctor.publicKey], 'x-ray bytes', {
      armor: false,
    });
    const up = await patient.api.request('POST', `/records/${record.id}/attachments`, {
      raw: { data: new Uint8Array(file), contentType: 'application/octet-stream' },
    });
    expect(up.status).toBe(201);
    expect((await patient.api.delete(`/records/${record.id}`)).status).toBe(204);
    expect((await patient.api.get(`/records/${record.id}`)).status).toBe(404);
    const db = server.connection;
    for (const [collection, filter] of [
      ['records', { _id: record.id }],
      ['record_versions', { recordId: record.id }],
      ['grants', { recordId: record.id }],
      ['attachments', { recordId: record.id }],
      ['attachment_chunks', { recordId: record.id }],
      ['attachment_links', { recordId: record.id }],
    ] as const) {
      expect({
        collection,
        n: await db.collection(collection).countDocuments(filter as never),
      }).toEqual({ collection, n: 0 });
    }
    const audit = auditTrailResponseSchema.parse(
      (await patient.api.get(`/audit/records/${record.id}`)).body,
    );
    expect(audit.events.map((e) => e.action)).toEqual(['create', 'share', 'attach', 'delete']);
    expect(audit.verification).toEqual({ status: 'intact' });
  });

  it('when a delete stopped half-way (record gone, versions and files left), then the owner deletes again: 204, the rest is gone, the trail says delete once', async () => {
    const record = await createRecord(patient, patient, [patient]);
    const file = await encryptTo([patient.publicKey], 'x-ray bytes', { armor: false });
    await patient.api.request('POST', `/records/${record.id}/attachments`, {
      raw: { data: new Uint8Array(file), contentType: 'application/octet-stream' },
    });
    const db = server.connection;
    // What a crash right after the first step of the delete leaves behind.
    await db.collection('records').deleteOne({ _id: record.id } as never);
    expect((await doctor.api.delete(`/records/${record.id}`)).status).toBe(404);
    expect((await patient.api.delete(`/records/${record.id}`)).status).toBe(204);
    expect((await patient.api.delete(`/records/${record.id}`)).status).toBe(204);
    for (const collection of [
      'record_versions',
      'attachments',
      'attachment_chunks',
      'attachment_links',
    ]) {
      expect({
        collection,
        n: await db.collection(collection).countDocuments({ recordId: record.id } as never),
      }).toEqual({ collection, n: 0 });
    }
    const audit = auditTrailResponseSchema.parse(
      (await patient.api.get(`/audit/records/${record.id}`)).body,
    );
    expect(audit.events.map((e) => e.action)).toEqual(['create', 'attach', 'delete']);
  });

  // An upload links its file, stores its chunks, then its document; a permanent delete reads the
  // record's files once, right after removing the record. One run just before the document is
  // stored (hooked into the attachment model) does not find it.
  it('when the owner deletes the record while a file of it is being stored, then the upload answers 404 and nothing of the file is left', async () => {
    const record = await createRecord(patient, patient, [patient]);
    const file = await encryptTo([patient.publicKey], 'x-ray bytes', { armor: false });
    const { answer, ran } = await hookedInto(
      server.connection,
      { model: 'Attachment', method: 'create', at: 'before' },
      async () => (await patient.api.delete(`/records/${record.id}`)).status,
      () =>
        patient.api.request('POST', `/records/${record.id}/attachments`, {
          raw: { data: new Uint8Array(file), contentType: 'application/octet-stream' },
        }),
    );
    expect(ran).toBe(204);
    expect({ status: answer.status, code: codeOf(answer) }).toEqual({
      status: 404,
      code: 'record-not-found',
    });
    expect(
      await storedOf(server.connection, record.id, [
        'attachments',
        'attachment_chunks',
        'attachment_links',
      ]),
    ).toEqual({ attachments: 0, attachment_chunks: 0, attachment_links: 0 });
  });
});

describe('attachments', () => {
  it('when a binary OpenPGP file is attached, then it downloads as the same bytes, as application/octet-stream with Content-Disposition: attachment', async () => {
    const record = await createRecord(doctor, patient, [patient, doctor]);
    const data = new Uint8Array(
      await encryptTo(
        [patient.publicKey, doctor.publicKey],
        Buffer.alloc(3 * 1024 * 1024 + 17, 7),
        { armor: false },
      ),
    );
    const up = await doctor.api.request('POST', `/records/${record.id}/attachments`, {
      raw: { data, contentType: 'application/octet-stream' },
    });
    expect(up.status).toBe(201);
    const { id } = up.body as { id: string };
    const down = await patient.api.get(`/records/${record.id}/attachments/${id}`);
    expect(down.status).toBe(200);
    expect(down.headers.get('content-type')).toBe('application/octet-stream');
    expect(down.headers.get('content-disposition')).toMatch(/^attachment;/);
    expect(Buffer.from(down.body as Uint8Array).equals(Buffer.from(data))).toBe(true);
    const got = recordSchema.parse((await patient.api.get(`/records/${record.id}`)).body);
    expect(got.attachments.map((a) => a.id)).toEqual([id]);
  });

  it('when an attachment is not encrypted to exactly the record recipients, then 400 recipient-mismatch; over the sealed-file limit, then 413', async () => {
    const record = await createRecord(doctor, patient, [patient, doctor]);
    const onlyPatient = new Uint8Array(
      await encryptTo([patient.publicKey], 'scan', { armor: false }),
    );
    const res = await doctor.api.request('POST', `/records/${record.id}/attachments`, {
      raw: { data: onlyPatient, contentType: 'application/octet-stream' },
    });
    expect(res.status).toBe(400);
    expect(codeOf(res)).toBe('recipient-mismatch');
    const huge = new Uint8Array(MAX_ATTACHMENT_BYTES + 128 * 1024);
    const big = await doctor.api.request('POST', `/records/${record.id}/attachments`, {
      raw: { data: huge, contentType: 'application/octet-stream' },
    });
    expect(big.status).toBe(413);
    expect(
      await server.connection.collection('attachments').countDocuments({ recordId: record.id }),
    ).toBe(0);
  });

  it('when a file of the full 20 MiB a person may attach is sealed (Padmé padding and all), then the upload is accepted', async () => {
    const record = await createRecord(doctor, patient, [patient, doctor]);
    const data = new Uint8Array(
      await encryptTo([patient.publicKey, doctor.publicKey], randomBytes(MAX_FILE_SIZE_BYTES), {
        armor: false,
      }),
    );
    expect(data.length).toBeGreaterThan(MAX_FILE_SIZE_BYTES + 256 * 1024);
    const up = await doctor.api.request('POST', `/records/${record.id}/attachments`, {
      raw: { data, contentType: 'application/octet-stream' },
    });
    expect(up.status).toBe(201);
  });
});

describe('audit', () => {
  it('when a record is read and changed, then the owner sees the chained trail, and a tampered stored event is detected', async () => {
    const record = await createRecord(doctor, patient, [patient, doctor]);
    await doctor.api.get(`/records/${record.id}`);
    await patient.api.get(`/records/${record.id}`);
    const trail = auditTrailResponseSchema.parse(
      (await patient.api.get(`/audit/records/${record.id}`)).body,
    );
    expect(trail.events.map((e) => [e.action, e.actorId])).toEqual([
      ['create', doctor.id],
      ['read', doctor.id],
      ['read', patient.id],
    ]);
    expect(trail.verification).toEqual({ status: 'intact' });
    expect(trail.events[1]?.prevHash).toBe(trail.events[0]?.hash);

    await server.connection
      .collection('audit_events')
      .updateOne({ recordId: record.id, seq: 2 }, { $set: { actorId: patient.id } });
    const tampered = auditTrailResponseSchema.parse(
      (await patient.api.get(`/audit/records/${record.id}`)).body,
    );
    expect(tampered.verification).toEqual({ status: 'broken', seq: 2 });
  });

  it('when the doctor (not the owner) asks for the trail, then 403', async () => {
    const record = await createRecord(doctor, patient, [patient, doctor]);
    const res = await doctor.api.get(`/audit/records/${record.id}`);
    expect(res.status).toBe(403);
  });
});

describe('directory', () => {
  it('when searching by exact email or name prefix, then id, name, role, key and the server-computed fingerprint (and, by email only, the nonce her key leaf commits to it under)', async () => {
    const byEmail = await patient.api.get(`/users?email=${encodeURIComponent(doctor.email)}`);
    expect(byEmail.body).toEqual({
      users: [
        {
          id: doctor.id,
          name: 'Dr Dora',
          role: 'doctor',
          publicKey: doctor.publicKey,
          fingerprint: doctor.fingerprint,
          emailNonce: expect.stringMatching(/^[A-Za-z0-9_-]{22}$/),
        },
      ],
    });
    expect((await readPublicKey(doctor.publicKey)).fingerprint).toBe(doctor.fingerprint);
    const byName = await patient.api.get('/users?namePrefix=dr%20d');
    const found = (byName.body as { users: { id: string; emailNonce?: string }[] }).users;
    expect(found.map((u) => u.id)).toContain(doctor.id);
    expect(found.filter((u) => u.emailNonce !== undefined)).toEqual([]);
    const regex = await patient.api.get('/users?namePrefix=.*');
    expect((regex.body as { users: unknown[] }).users).toEqual([]);
  });
});

describe('a crash between the two writes of an update', () => {
  it('when a version slot was left behind by a writer that died over a minute ago, then the next update frees it and succeeds; a fresh one still gives 409', async () => {
    const record = await createRecord(patient, patient, [patient]);
    const versions = server.connection.collection('record_versions');
    const stray = {
      _id: `${record.id}:2`,
      recordId: record.id,
      version: 2,
      authorId: patient.id,
      recipients: [],
      message: 'x',
      size: 1,
    };
    await versions.insertOne({ ...stray, createdAt: new Date() } as never);
    const message = await armoredTo([patient.publicKey], 'after crash');
    const fresh = await patient.api.put(`/records/${record.id}`, {
      baseVersion: 1,
      recipients: to(patient),
      message,
    });
    expect(fresh.status).toBe(409);
    await versions.updateOne(
      { _id: stray._id as never },
      { $set: { createdAt: new Date(Date.now() - 120_000) } },
    );
    const res = await patient.api.put(`/records/${record.id}`, {
      baseVersion: 1,
      recipients: to(patient),
      message,
    });
    expect(res.status).toBe(200);
    const v2 = await patient.api.get<{ message: string }>(`/records/${record.id}/versions/2`);
    expect(v2.body.message).toBe(message);
  });
});
