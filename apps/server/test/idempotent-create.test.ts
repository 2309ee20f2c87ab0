import {
  auditTrailResponseSchema,
  recordHistoryResponseSchema,
  recordSchema,
} from '@medseal/contract';
import { codeOf } from './helpers/client';
import { hookedInto } from './helpers/hooks';
import { createBody, recipientsOf, sealFor, share } from './helpers/records';
import { registerUser, type TestUser } from './helpers/users';
import { startTestServer, type TestServer } from './support';
import { giveConsent } from './helpers/consents';

let server: TestServer;
let patient: TestUser;
let doctor: TestUser;
beforeAll(async () => {
  server = await startTestServer();
  patient = await registerUser(server.baseUrl, { name: 'Retrying Patient' });
  doctor = await registerUser(server.baseUrl, { name: 'Dr Retry', role: 'doctor' });
  await giveConsent(patient, doctor);
});
afterAll(() => server.close());

describe('creating a record again with its client-made id (a retry after a lost answer or a 503)', () => {
  it('when the same create is sent again, even at once, then each answer is 201 with the one stored record, one version and one create event', async () => {
    const body = await createBody(doctor, patient, [patient, doctor]);
    const first = await doctor.api.post('/records', body);
    const [again, atOnce] = await Promise.all([
      doctor.api.post('/records', body),
      doctor.api.post('/records', body),
    ]);
    for (const res of [first, again, atOnce]) {
      expect(res.status).toBe(201);
      expect(recordSchema.parse(res.body)).toMatchObject({
        id: body.recordId,
        version: 1,
        message: body.message,
      });
    }
    const history = recordHistoryResponseSchema.parse(
      (await patient.api.get(`/records/${body.recordId}/versions`)).body,
    );
    expect(history.versions.map((v) => v.version)).toEqual([1]);
    const trail = auditTrailResponseSchema.parse(
      (await patient.api.get(`/audit/records/${body.recordId}`)).body,
    );
    expect(trail.events.filter((e) => e.action === 'create')).toHaveLength(1);
  });

  it('when the id is sent with another message, other recipients or by someone else, then 409 record-exists and the record is unchanged', async () => {
    const body = await createBody(doctor, patient, [patient, doctor]);
    expect((await doctor.api.post('/records', body)).status).toBe(201);
    const otherMessage = {
      ...body,
      message: await sealFor({
        recordId: body.recordId,
        version: 1,
        owner: patient,
        author: doctor,
        readers: [patient, doctor],
      }),
    };
    const otherReaders = {
      ...body,
      recipients: recipientsOf(doctor, patient),
      message: await sealFor({
        recordId: body.recordId,
        version: 1,
        owner: patient,
        author: doctor,
        readers: [doctor, patient],
      }),
    };
    const byPatient = {
      ...body,
      message: await sealFor({
        recordId: body.recordId,
        version: 1,
        owner: patient,
        author: patient,
        readers: [patient, doctor],
      }),
    };
    for (const [who, attempt] of [
      [doctor, otherMessage],
      [doctor, otherReaders],
      [patient, byPatient],
      [patient, body],
    ] as const) {
      const res = await who.api.post('/records', attempt);
      expect({ status: res.status, code: codeOf(res) }).toEqual({
        status: 409,
        code: 'record-exists',
      });
    }
    expect(
      recordSchema.parse((await patient.api.get(`/records/${body.recordId}`)).body).message,
    ).toBe(body.message);
  });

  it('when the author sends his create again after the owner revoked him, then 409 record-exists and nothing of the record; while he still reads it, the answer is its current state and counts as a read', async () => {
    const colleague = await registerUser(server.baseUrl, { name: 'Dr Colleague', role: 'doctor' });
    const body = await createBody(doctor, patient, [patient, doctor]);
    expect((await doctor.api.post('/records', body)).status).toBe(201);
    await share(patient, colleague, { id: body.recordId, message: body.message });
    const changed = await doctor.api.post('/records', body);
    expect(changed.status).toBe(201);
    expect(recordSchema.parse(changed.body).recipients.map((r) => r.userId)).toContain(
      colleague.id,
    );
    const trail = async () =>
      auditTrailResponseSchema
        .parse((await patient.api.get(`/audit/records/${body.recordId}`)).body)
        .events.map((e) => [e.action, e.actorId]);
    expect(await trail()).toContainEqual(['read', doctor.id]);

    expect((await patient.api.delete(`/records/${body.recordId}/grants/${doctor.id}`)).status).toBe(
      204,
    );
    const before = await trail();
    const revoked = await doctor.api.post('/records', body);
    expect(revoked.status).toBe(409);
    expect(codeOf(revoked)).toBe('record-exists');
    expect(JSON.stringify(revoked.body)).not.toContain(body.message.slice(40, 80));
    expect(await trail()).toEqual(before);
  });

  it('when the same new create is sent several times at once (retries racing the first), then every answer is 201 with that record, one version and one create event', async () => {
    for (let round = 0; round < 5; round++) {
      const body = await createBody(doctor, patient, [patient, doctor]);
      const answers = await Promise.all(
        Array.from({ length: 6 }, () => doctor.api.post('/records', body)),
      );
      expect(answers.map((res) => [res.status, codeOf(res)])).toEqual(
        answers.map(() => [201, undefined]),
      );
      for (const res of answers)
        expect(recordSchema.parse(res.body)).toMatchObject({
          id: body.recordId,
          version: 1,
          message: body.message,
        });
      const history = recordHistoryResponseSchema.parse(
        (await patient.api.get(`/records/${body.recordId}/versions`)).body,
      );
      expect(history.versions.map((v) => v.version)).toEqual([1]);
      const trail = auditTrailResponseSchema.parse(
        (await patient.api.get(`/audit/records/${body.recordId}`)).body,
      );
      expect(trail.verification.status).toBe('intact');
      expect(trail.events.filter((e) => e.action === 'create')).toHaveLength(1);
    }
  });

  it('when a retry of a half-stored create (record without version 1) runs while the owner deletes the record, then it answers 409 record-exists and no version of the record is left', async () => {
    const body = await createBody(patient, patient, [patient]);
    expect((await patient.api.post('/records', body)).status).toBe(201);
    // The first send stored the record and failed before its version 1.
    const versions = server.connection.collection('record_versions');
    await versions.deleteOne({ _id: `${body.recordId}:1` } as never);
    // The owner's delete runs whole between the retry's read of the record and its write of
    // version 1 (the model the server writes through: same connection, same object).
    const { answer: retry, ran } = await hookedInto(
      server.connection,
      { model: 'RecordVersion', method: 'create', at: 'before' },
      async () => (await patient.api.delete(`/records/${body.recordId}`)).status,
      () => patient.api.post('/records', body),
    );
    expect(ran).toBe(204);
    expect([retry.status, codeOf(retry)]).toEqual([409, 'record-exists']);
    expect(await versions.countDocuments({ recordId: body.recordId } as never)).toBe(0);
    expect((await patient.api.get(`/records/${body.recordId}`)).status).toBe(404);
  });

  it('when two different creates with one id race, then the stored one answers 201 to each of its sends and the other 409 record-exists', async () => {
    for (let round = 0; round < 5; round++) {
      const body = await createBody(doctor, patient, [patient, doctor]);
      const other = {
        ...body,
        message: await sealFor({
          recordId: body.recordId,
          version: 1,
          owner: patient,
          author: doctor,
          readers: [patient, doctor],
        }),
      };
      const sends = [body, other, body, other, body, other];
      const answers = await Promise.all(sends.map((b) => doctor.api.post('/records', b)));
      const stored = recordSchema.parse(
        (await patient.api.get(`/records/${body.recordId}`)).body,
      ).message;
      expect(answers.map((res) => [res.status, codeOf(res)])).toEqual(
        sends.map((b) => (b.message === stored ? [201, undefined] : [409, 'record-exists'])),
      );
    }
  });
});
