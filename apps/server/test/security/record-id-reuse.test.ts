import { auditTrailResponseSchema } from '@medseal/contract';
import { codeOf } from '../helpers/client';
import { createRecordAs, recipientsOf, sealFor } from '../helpers/records';
import { registerUser, type TestUser } from '../helpers/users';
import { startTestServer, type TestServer } from '../support';
import { giveConsent } from '../helpers/consents';

let server: TestServer;
let patient: TestUser;
let doctor: TestUser;
beforeAll(async () => {
  server = await startTestServer();
  patient = await registerUser(server.baseUrl, { name: 'Paula Patient' });
  doctor = await registerUser(server.baseUrl, { name: 'Dr Dora', role: 'doctor' });
  await giveConsent(patient, doctor);
});
afterAll(() => server.close());

describe('reusing the id of a deleted record', () => {
  it("when someone creates a record under the id of a deleted one, then 409 record-exists and the trail stays the old owner's alone", async () => {
    const record = await createRecordAs(doctor, patient, [patient, doctor]);
    expect((await doctor.api.get(`/records/${record.id}`)).status).toBe(200);
    expect((await patient.api.delete(`/records/${record.id}`)).status).toBe(204);

    // The doctor knew the id; as owner of a new record under it he would read (and extend) the patient's trail.
    const message = await sealFor({
      recordId: record.id,
      version: 1,
      owner: doctor,
      author: doctor,
      readers: [doctor],
    });
    const res = await doctor.api.post('/records', {
      recordId: record.id,
      ownerId: doctor.id,
      recipients: recipientsOf(doctor),
      message,
    });
    expect({ status: res.status, code: codeOf(res) }).toEqual({
      status: 409,
      code: 'record-exists',
    });
    expect(
      await server.connection.collection('records').countDocuments({ _id: record.id } as never),
    ).toBe(0);

    expect((await doctor.api.get(`/audit/records/${record.id}`)).status).toBe(404);
    const trail = auditTrailResponseSchema.parse(
      (await patient.api.get(`/audit/records/${record.id}`)).body,
    );
    expect(trail.events.map((e) => e.action)).toEqual(['create', 'read', 'delete']);
    expect(trail.verification).toEqual({ status: 'intact' });
  });
});
