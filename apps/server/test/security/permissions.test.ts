import { auditTrailResponseSchema, endpoints, type EndpointName } from '@medseal/contract';
import { signAuditCheckpoint } from '@medseal/crypto';
import { accessRules } from '../../src/access';
import { ROLE_MAY, type RecordRole } from '../../src/components/records/access';
import { ApiClient, codeOf, type ApiResponse } from '../helpers/client';
import { createRecordAs, grantBody, recipientsOf, sealFor, share } from '../helpers/records';
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
  run: (api: ApiClient, record: { id: string; message: string; version: number }) => Promise<ApiResponse>;
}

const operations: Record<string, Operation> = {
  read: { endpoint: 'getRecord', run: (api, r) => api.get(`/records/${r.id}`) },
  history: { endpoint: 'recordHistory', run: (api, r) => api.get(`/records/${r.id}/versions`) },
  update: {
    endpoint: 'updateRecord',
    run: async (api, r) => {
      const message = await sealFor({ recordId: r.id, version: r.version + 1, owner, author: owner, readers: [owner, granted] });
      return api.put(`/records/${r.id}`, { baseVersion: r.version, recipients: recipientsOf(owner, granted), message });
    },
  },
  delete: { endpoint: 'deleteRecord', run: (api, r) => api.delete(`/records/${r.id}`) },
  grant: { endpoint: 'grantAccess', run: async (api, r) => api.post(`/records/${r.id}/grants`, await grantBody(owner, newcomer, r)) },
  revoke: { endpoint: 'revokeAccess', run: (api, r) => api.delete(`/records/${r.id}/grants/${granted.id}`) },
  audit: { endpoint: 'recordAudit', run: (api, r) => api.get(`/audit/records/${r.id}`) },
  // The owner's own valid checkpoint, sent by each actor: only the owner may store it.
  checkpoint: {
    endpoint: 'putAuditCheckpoint',
    run: async (api, r) => {
      const trail = auditTrailResponseSchema.parse((await owner.api.get(`/audit/records/${r.id}`)).body);
      const head = trail.events.at(-1)?.hash ?? '';
      const signedCheckpoint = await signAuditCheckpoint({ checkpoint: { recordId: r.id, length: trail.events.length, head }, key: owner.key.privateKey });
      return api.put(`/audit/records/${r.id}/checkpoint`, { signedCheckpoint });
    },
  },
};

const cells = actors.flatMap((actor) => Object.keys(operations).map((op) => [actor, op] as const));

describe('the permission matrix', () => {
  it.each(cells)('when the %s tries to %s the record, then only an allowed cell succeeds', async (actor, op) => {
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
  });

  it.each(actors)('when the %s lists records, then the record appears only for the owner and the granted doctor', async (actor) => {
    const record = await setUp();
    const res = await client(actor).get<{ records: { id: string }[] }>('/records');
    if (actor === 'anonymous') {
      expect(res.status).toBe(401);
      return;
    }
    expect(res.status).toBe(200);
    const listed = res.body.records.some((r) => r.id === record.id);
    expect(listed).toBe(actor === 'owner' || actor === 'granted doctor');
  });
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
