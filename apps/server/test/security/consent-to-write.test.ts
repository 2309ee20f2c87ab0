// Issue 10 class 11 (DESIGN §13): any account could register as a doctor and write records into
// any patient's list. A doctor now writes for a patient only under a consent she signed for his
// registered key; the server checks each statement with her registered key before storing it.
import { consentListResponseSchema, consentSchema } from '@medseal/contract';
import { codeOf } from '../helpers/client';
import { hookedInto } from '../helpers/hooks';
import { consentBody, giveConsent, putConsent } from '../helpers/consents';
import { encryptTo } from '../helpers/pgp';
import { createBody, createRecordAs, grantBody, recipientsOf, sealFor } from '../helpers/records';
import { registerUser, type TestUser } from '../helpers/users';
import { startTestServer, type TestServer } from '../support';

let server: TestServer;
let patient: TestUser;
let otherPatient: TestUser;
let doctor: TestUser;
let colleague: TestUser;
let outsider: TestUser;
beforeAll(async () => {
  server = await startTestServer();
  const as = (name: string, role: 'patient' | 'doctor') =>
    registerUser(server.baseUrl, { name, role });
  [patient, otherPatient, doctor, colleague, outsider] = await Promise.all([
    as('Cora Patient', 'patient'),
    as('Olive Patient', 'patient'),
    as('Dr Consented', 'doctor'),
    as('Dr Colleague', 'doctor'),
    as('Dr Outsider', 'doctor'),
  ]);
});
afterAll(() => server.close());

const storedConsents = async (who: TestUser) => {
  const res = await who.api.get(`/patients/${who.id}/consents`);
  expect(res.status).toBe(200);
  return consentListResponseSchema.parse(res.body).consents;
};

describe('storing a consent statement: only the patient, only a good one', () => {
  it('when the patient signs a consent for a doctor’s registered key, then it is stored under her id and the doctor’s, as she signed it', async () => {
    const body = await consentBody(otherPatient, doctor);
    const res = await otherPatient.api.put(
      `/patients/${otherPatient.id}/consents/${doctor.id}`,
      body,
    );
    expect(res.status).toBe(200);
    expect(consentSchema.parse(res.body)).toMatchObject({
      patientId: otherPatient.id,
      subjectKind: 'person',
      subjectId: doctor.id,
      fingerprint: doctor.fingerprint,
      seq: 1,
      signedConsent: body.signedConsent,
    });
  });

  it.each([
    [
      'signed by another key (forged by the server or the doctor)',
      () => putConsent(patient, doctor, { signer: outsider }),
      400,
      'bad-signature',
    ],
    [
      'naming another key than the doctor’s',
      () => putConsent(patient, doctor, { fingerprint: outsider.fingerprint }),
      400,
      'fingerprint-mismatch',
    ],
    [
      'signed by the patient for another patient’s id',
      async () =>
        patient.api.put(
          `/patients/${patient.id}/consents/${doctor.id}`,
          await consentBody({ ...patient, id: otherPatient.id }, doctor),
        ),
      400,
      'consent-wrong-patient',
    ],
    [
      'naming another doctor than the one in the path',
      async () =>
        patient.api.put(
          `/patients/${patient.id}/consents/${doctor.id}`,
          await consentBody(patient, outsider),
        ),
      400,
      'consent-wrong-subject',
    ],
    [
      'stored under another patient’s id',
      async () =>
        patient.api.put(
          `/patients/${otherPatient.id}/consents/${doctor.id}`,
          await consentBody(patient, doctor),
        ),
      403,
      'forbidden',
    ],
    [
      'made by a doctor for himself',
      async () =>
        doctor.api.put(
          `/patients/${doctor.id}/consents/${outsider.id}`,
          await consentBody(doctor, outsider),
        ),
      403,
      'forbidden',
    ],
    [
      'for a patient rather than a doctor',
      () => putConsent(patient, otherPatient),
      400,
      'subject-not-doctor',
    ],
    [
      'not a signed statement at all',
      () =>
        patient.api.put(`/patients/${patient.id}/consents/${doctor.id}`, {
          signedConsent: 'hello',
        }),
      400,
      'bad-signature',
    ],
    [
      'with a field the contract does not know',
      async () =>
        patient.api.put(`/patients/${patient.id}/consents/${doctor.id}`, {
          ...(await consentBody(patient, doctor)),
          seq: 9,
        }),
      400,
      'unknown-field',
    ],
  ])(
    'when a statement is %s, then it is refused with its code and nothing is stored',
    async (_what, send, status, code) => {
      const res = await send();
      expect({ status: res.status, code: codeOf(res) }).toEqual({ status, code });
      expect(await storedConsents(patient)).toEqual([]);
      expect(
        (await doctor.api.post('/records', await createBody(doctor, patient, [patient, doctor])))
          .status,
      ).toBe(403);
    },
  );

  it('when an older statement is sent again after a withdrawal (replayed), then 409 consent-replayed and the withdrawal stays', async () => {
    const first = await consentBody(patient, colleague, { seq: 1 });
    expect(
      (await patient.api.put(`/patients/${patient.id}/consents/${colleague.id}`, first)).status,
    ).toBe(200);
    expect((await putConsent(patient, colleague, { seq: 2, withdraw: true })).status).toBe(200);
    for (const replay of [first, await consentBody(patient, colleague, { seq: 2 })]) {
      const res = await patient.api.put(`/patients/${patient.id}/consents/${colleague.id}`, replay);
      expect({ status: res.status, code: codeOf(res) }).toEqual({
        status: 409,
        code: 'consent-replayed',
      });
    }
    const [stored] = await storedConsents(patient);
    expect(stored).toMatchObject({
      subjectId: colleague.id,
      seq: 2,
      withdrawnAt: expect.any(String),
    });
    // Consenting again takes a newer statement.
    expect((await putConsent(patient, colleague, { seq: 3 })).status).toBe(200);
    expect((await storedConsents(patient))[0]).toMatchObject({ seq: 3 });
    expect((await storedConsents(patient))[0]?.withdrawnAt).toBeUndefined();
    expect((await putConsent(patient, colleague, { seq: 4, withdraw: true })).status).toBe(200);
  });

  // Two statements based on the same stored one (a save retried after a 503 beside a newer one):
  // FerretDB v1 can let two updates filtered on the same `seq` both match, the later undoing the
  // other, so the second must not run while the first does.
  it('when a statement arrives while a withdrawal based on the same stored one is being stored, then it is refused 409 and the withdrawal stays', async () => {
    const racer = await registerUser(server.baseUrl, { name: 'Dr Racer', role: 'doctor' });
    await giveConsent(otherPatient, racer);
    const { answer, ran } = await hookedInto(
      server.connection,
      { model: 'Consent', method: 'updateOne', at: 'before' },
      async () => {
        const res = await putConsent(otherPatient, racer, { seq: 2 });
        return { status: res.status, code: codeOf(res) };
      },
      () => putConsent(otherPatient, racer, { seq: 3, withdraw: true }),
    );
    expect(answer.status).toBe(200);
    expect(ran).toEqual({ status: 409, code: 'version-conflict' });
    expect(
      (await storedConsents(otherPatient)).find((c) => c.subjectId === racer.id),
    ).toMatchObject({ seq: 3, withdrawnAt: expect.any(String) });
  });
});

describe('who reads a patient’s consents', () => {
  it('when the patient, a doctor she consented to, a withdrawn one and an outsider ask, then she and her current carer see every latest statement, the others nothing', async () => {
    const carer = await registerUser(server.baseUrl, { name: 'Dr Carer', role: 'doctor' });
    const former = await registerUser(server.baseUrl, { name: 'Dr Former', role: 'doctor' });
    const owner = await registerUser(server.baseUrl, { name: 'Rita Reader' });
    await giveConsent(owner, carer);
    await giveConsent(owner, former);
    expect((await putConsent(owner, former, { seq: 2, withdraw: true })).status).toBe(200);

    expect((await storedConsents(owner)).map((c) => c.subjectId).sort()).toEqual(
      [carer.id, former.id].sort(),
    );
    // Her current carer gets the withdrawal too: its consent book is what makes a replay visible.
    const asCarer = await carer.api.get(`/patients/${owner.id}/consents`);
    expect(
      consentListResponseSchema
        .parse(asCarer.body)
        .consents.map((c) => [c.subjectId, c.withdrawnAt !== undefined])
        .sort(),
    ).toEqual(
      [
        [carer.id, false],
        [former.id, true],
      ].sort(),
    );
    for (const who of [former, outsider]) {
      const res = await who.api.get(`/patients/${owner.id}/consents`);
      expect({ status: res.status, code: codeOf(res) }).toEqual({
        status: 404,
        code: 'consent-not-found',
      });
    }
    // The withdrawn doctor still reads his own statement (so his app can say so); an outsider reads none.
    expect(
      consentSchema.parse(
        (await former.api.get(`/patients/${owner.id}/consents/${former.id}`)).body,
      ).withdrawnAt,
    ).toEqual(expect.any(String));
    expect((await outsider.api.get(`/patients/${owner.id}/consents/${carer.id}`)).status).toBe(404);
    expect((await carer.api.get(`/patients/${owner.id}/consents/${former.id}`)).status).toBe(404);
  });
});

describe('writing for a patient needs her current consent (403 no-consent)', () => {
  it('when a self-declared doctor writes a record for a patient who never consented, then 403 no-consent and nothing is stored', async () => {
    const body = await createBody(outsider, patient, [patient, outsider]);
    const res = await outsider.api.post('/records', body);
    expect({ status: res.status, code: codeOf(res) }).toEqual({ status: 403, code: 'no-consent' });
    expect((await patient.api.get(`/records/${body.recordId}`)).status).toBe(404);
  });

  it('when the patient withdraws, then the doctor can no longer write, edit, attach to or share his note; she still can; a new consent restores it', async () => {
    const owner = await registerUser(server.baseUrl, { name: 'Wanda Withdraws' });
    await giveConsent(owner, doctor);
    const note = await createRecordAs(doctor, owner, [owner, doctor]);
    expect((await putConsent(owner, doctor, { seq: 2, withdraw: true })).status).toBe(200);

    const attempts = {
      create: async () =>
        doctor.api.post('/records', await createBody(doctor, owner, [owner, doctor])),
      edit: async () =>
        doctor.api.put(`/records/${note.id}`, {
          baseVersion: 1,
          recipients: recipientsOf(owner, doctor),
          message: await sealFor({
            recordId: note.id,
            version: 2,
            owner,
            author: doctor,
            readers: [owner, doctor],
          }),
        }),
      attach: async () =>
        doctor.api.request('POST', `/records/${note.id}/attachments`, {
          raw: {
            data: new Uint8Array(
              await encryptTo([owner.publicKey, doctor.publicKey], 'x', { armor: false }),
            ),
            contentType: 'application/octet-stream',
          },
        }),
      share: async () =>
        doctor.api.post(`/records/${note.id}/grants`, await grantBody(doctor, colleague, note)),
    };
    for (const [what, attempt] of Object.entries(attempts)) {
      const res = await attempt();
      expect({ what, status: res.status, code: codeOf(res) }).toEqual({
        what,
        status: 403,
        code: 'no-consent',
      });
    }
    // He still reads what he wrote; she still edits her record.
    expect((await doctor.api.get(`/records/${note.id}`)).status).toBe(200);
    const own = await owner.api.put(`/records/${note.id}`, {
      baseVersion: 1,
      recipients: recipientsOf(owner, doctor),
      message: await sealFor({
        recordId: note.id,
        version: 2,
        owner,
        author: owner,
        readers: [owner, doctor],
      }),
    });
    expect(own.status).toBe(200);

    await giveConsent(owner, doctor, 3);
    expect((await attempts.create()).status).toBe(201);
  });
});
