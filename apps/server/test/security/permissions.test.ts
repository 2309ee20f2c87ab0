import { auditTrailResponseSchema, endpoints, type EndpointName } from '@medseal/contract';
import { signAuditCheckpoint } from '@medseal/crypto';
import { accessRules } from '../../src/access';
import { ROLE_MAY, type RecordRole } from '../../src/components/records/access';
import { ApiClient, codeOf, type ApiResponse } from '../helpers/client';
import { giveConsent, putConsent } from '../helpers/consents';
import {
  createBody,
  createRecordAs,
  grantBody,
  recipientsOf,
  sealFor,
  share,
} from '../helpers/records';
import { encryptTo } from '../helpers/pgp';
import { registerUser, type TestUser } from '../helpers/users';
import { startTestServer, type TestServer } from '../support';

/**
 * The permission matrix, generated from the access table (src/access.ts) and the role
 * table (ROLE_MAY): {owner, granted doctor, revoked doctor, other user, anonymous} ×
 * {read, list, update, delete, history, grant, revoke, audit, checkpoint}. Only allowed cells succeed;
 * the others get 401/403/404 and no record data.
 */
let server: TestServer;
let owner: TestUser;
let granted: TestUser;
let revoked: TestUser;
let otherUser: TestUser;
let newcomer: TestUser;
beforeAll(async () => {
  server = await startTestServer();
  owner = await registerUser(server.baseUrl, { name: 'Owner' });
  granted = await registerUser(server.baseUrl, { name: 'Dr Granted', role: 'doctor' });
  revoked = await registerUser(server.baseUrl, { name: 'Dr Revoked', role: 'doctor' });
  otherUser = await registerUser(server.baseUrl, { name: 'Other' });
  newcomer = await registerUser(server.baseUrl, { name: 'Dr Newcomer', role: 'doctor' });
});
afterAll(() => server.close());

type Actor = 'owner' | 'granted doctor' | 'revoked doctor' | 'other user' | 'anonymous';
const actors: Actor[] = ['owner', 'granted doctor', 'revoked doctor', 'other user', 'anonymous'];
const roleOf: Record<Actor, RecordRole | undefined | 'anonymous'> = {
  owner: 'owner',
  'granted doctor': 'reader',
  'revoked doctor': undefined,
  'other user': undefined,
  anonymous: 'anonymous',
};

/** A fresh record owned by `owner`, shared with `granted`, shared with then revoked from `revoked`. */
async function setUp() {
  const record = await createRecordAs(owner, owner, [owner]);
  await share(owner, revoked, record);
  expect((await owner.api.delete(`/records/${record.id}/grants/${revoked.id}`)).status).toBe(204);
  const current = await owner.api.get<{ message: string }>(`/records/${record.id}`);
  await share(owner, granted, { id: record.id, message: current.body.message });
  const latest = await owner.api.get<{ message: string; version: number }>(`/records/${record.id}`);
  return { id: record.id, message: latest.body.message, version: latest.body.version };
}

function client(actor: Actor): ApiClient {
  switch (actor) {
    case 'owner':
      return owner.api;
    case 'granted doctor':
      return granted.api;
    case 'revoked doctor':
      return revoked.api;
    case 'other user':
      return otherUser.api;
    case 'anonymous':
      return new ApiClient(server.baseUrl);
  }
}

interface Operation {
  endpoint: EndpointName;
  run: (
    api: ApiClient,
    record: { id: string; message: string; version: number },
  ) => Promise<ApiResponse>;
}

const operations: Record<string, Operation> = {
  read: { endpoint: 'getRecord', run: (api, r) => api.get(`/records/${r.id}`) },
  history: { endpoint: 'recordHistory', run: (api, r) => api.get(`/records/${r.id}/versions`) },
  update: {
    endpoint: 'updateRecord',
    run: async (api, r) => {
      const message = await sealFor({
        recordId: r.id,
        version: r.version + 1,
        owner,
        author: owner,
        readers: [owner, granted],
      });
      return api.put(`/records/${r.id}`, {
        baseVersion: r.version,
        recipients: recipientsOf(owner, granted),
        message,
      });
    },
  },
  delete: { endpoint: 'deleteRecord', run: (api, r) => api.delete(`/records/${r.id}`) },
  grant: {
    endpoint: 'grantAccess',
    run: async (api, r) => api.post(`/records/${r.id}/grants`, await grantBody(owner, newcomer, r)),
  },
  revoke: {
    endpoint: 'revokeAccess',
    run: (api, r) => api.delete(`/records/${r.id}/grants/${granted.id}`),
  },
  audit: { endpoint: 'recordAudit', run: (api, r) => api.get(`/audit/records/${r.id}`) },
  // The owner's own valid checkpoint, sent by each actor: only the owner may store it.
  checkpoint: {
    endpoint: 'putAuditCheckpoint',
    run: async (api, r) => {
      const trail = auditTrailResponseSchema.parse(
        (await owner.api.get(`/audit/records/${r.id}`)).body,
      );
      const head = trail.events.at(-1)?.hash ?? '';
      const signedCheckpoint = await signAuditCheckpoint({
        checkpoint: { recordId: r.id, length: trail.events.length, head },
        key: owner.key.privateKey,
      });
      return api.put(`/audit/records/${r.id}/checkpoint`, { signedCheckpoint });
    },
  },
};

const cells = actors.flatMap((actor) => Object.keys(operations).map((op) => [actor, op] as const));

describe('the permission matrix', () => {
  it.each(cells)(
    'when the %s tries to %s the record, then only an allowed cell succeeds',
    async (actor, op) => {
      const operation = operations[op];
      if (!operation) throw new Error(op);
      const rule = accessRules[operation.endpoint];
      expect(rule.kind).toBe('record');
      const need = rule.kind === 'record' ? rule.need : 'read';
      const role = roleOf[actor];
      const record = await setUp();
      const res = await operation.run(client(actor), record);

      if (role === 'anonymous') {
        expect(res.status).toBe(401);
      } else if (role === undefined) {
        expect(res.status).toBe(404);
        expect(codeOf(res)).toBe('record-not-found');
      } else if (ROLE_MAY[role].includes(need)) {
        expect(res.status).toBeGreaterThanOrEqual(200);
        expect(res.status).toBeLessThan(300);
      } else {
        expect(res.status).toBe(403);
        expect(codeOf(res)).toBe('forbidden');
      }
      if (res.status >= 400) {
        expect(JSON.stringify(res.body)).not.toContain('PGP');
        expect(Object.keys(res.body as object)).toEqual(['error']);
      }
    },
  );

  it.each(actors)(
    'when the %s lists records, then the record appears only for the owner and the granted doctor',
    async (actor) => {
      const record = await setUp();
      const res = await client(actor).get<{ records: { id: string }[] }>('/records');
      if (actor === 'anonymous') {
        expect(res.status).toBe(401);
        return;
      }
      expect(res.status).toBe(200);
      const listed = res.body.records.some((r) => r.id === record.id);
      expect(listed).toBe(actor === 'owner' || actor === 'granted doctor');
    },
  );
});

/**
 * Consent to write (DESIGN §13, issue 10 class 11): a doctor's writes into a patient's records
 * — a new note, and editing, attaching to or sharing his note — by the state of her consent.
 * Reading what he wrote never needs it; every write without a current consent is 403 no-consent.
 */
type ConsentState = 'consent given' | 'consent withdrawn' | 'never consented';
const consentOperations: Record<
  string,
  (
    doctor: TestUser,
    patient: TestUser,
    note: { id: string; message: string } | null,
  ) => Promise<ApiResponse>
> = {
  'write a new note': async (d, p) => d.api.post('/records', await createBody(d, p, [p, d])),
  'edit his note': async (d, p, n) =>
    d.api.put(`/records/${n?.id}`, {
      baseVersion: 1,
      recipients: recipientsOf(p, d),
      message: await sealFor({
        recordId: n?.id ?? '',
        version: 2,
        owner: p,
        author: d,
        readers: [p, d],
      }),
    }),
  'attach a file to his note': async (d, p, n) =>
    d.api.request('POST', `/records/${n?.id}/attachments`, {
      raw: {
        data: new Uint8Array(await encryptTo([p.publicKey, d.publicKey], 'x', { armor: false })),
        contentType: 'application/octet-stream',
      },
    }),
  'share his note': async (d, _p, n) =>
    n
      ? d.api.post(`/records/${n.id}/grants`, await grantBody(d, newcomer, n))
      : Promise.reject(new Error('no note')),
  'read his note': (d, _p, n) => d.api.get(`/records/${n?.id}`),
};
const consentCells = (
  ['consent given', 'consent withdrawn', 'never consented'] as ConsentState[]
).flatMap((state) =>
  Object.keys(consentOperations)
    .filter((op) => state !== 'never consented' || op === 'write a new note')
    .map((op) => [state, op] as const),
);

describe('the permission matrix of consent to write', () => {
  it.each(consentCells)(
    'when the patient’s state is “%s” and her doctor tries to %s, then only a current consent lets him write',
    async (state, op) => {
      const patient = await registerUser(server.baseUrl, { name: 'Consenting Patient' });
      const doctor = await registerUser(server.baseUrl, { name: 'Dr Matrix', role: 'doctor' });
      let note: { id: string; message: string } | null = null;
      if (state !== 'never consented') {
        await giveConsent(patient, doctor);
        note = await createRecordAs(doctor, patient, [patient, doctor]);
      }
      if (state === 'consent withdrawn')
        expect((await putConsent(patient, doctor, { seq: 2, withdraw: true })).status).toBe(200);
      const run = consentOperations[op];
      if (!run) throw new Error(op);
      const res = await run(doctor, patient, note);
      if (state === 'consent given' || op === 'read his note') {
        expect(res.status).toBeGreaterThanOrEqual(200);
        expect(res.status).toBeLessThan(300);
      } else {
        expect({ status: res.status, code: codeOf(res) }).toEqual({
          status: 403,
          code: 'no-consent',
        });
      }
    },
  );
});

describe('failing closed', () => {
  it('when every endpoint of the contract is looked up, then each has an explicit access rule', () => {
    expect(Object.keys(endpoints).filter((name) => !(name in accessRules))).toEqual([]);
  });

  it('when an endpoint has no access rule, then it answers 403 no-access-rule even to its owner', async () => {
    const { getRecord: _dropped, ...rules } = accessRules;
    const closed = await startTestServer({ accessRules: rules });
    try {
      const alice = await registerUser(closed.baseUrl, { name: 'Alice' });
      const record = await createRecordAs(alice, alice, [alice]);
      const res = await alice.api.get(`/records/${record.id}`);
      expect(res.status).toBe(403);
      expect(codeOf(res)).toBe('no-access-rule');
    } finally {
      await closed.close();
    }
  });
});
