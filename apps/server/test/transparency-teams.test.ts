// Key transparency for care teams (issue 12): every stored team statement is a leaf of the log,
// served as the team's history (public: no person in it), and a refused statement logs nothing.
import {
  checkTeamInLog,
  logPublicKeyOf,
  parseBinding,
  teamSubject,
  verifyMapLookup,
  verifyTreeHead,
  type SignedTreeHead,
} from '@medseal/crypto';
import type { KtHistoryResponse } from '@medseal/contract';
import { ApiClient, codeOf } from './helpers/client';
import {
  addMember,
  createPracticeAs,
  createTeamAs,
  removeMember,
  statementBody,
} from './helpers/teams';
import { registerUser, type TestUser } from './helpers/users';
import { startTestServer, type TestServer } from './support';

let server: TestServer;
let admin: TestUser;
let nurse: TestUser;
const anonymous = () => new ApiClient(server.baseUrl);

beforeAll(async () => {
  server = await startTestServer();
  admin = await registerUser(server.baseUrl, { name: 'Dr Admin', role: 'doctor' });
  nurse = await registerUser(server.baseUrl, { name: 'Nurse Joy', role: 'doctor' });
});
afterAll(() => server.close());

async function head(): Promise<SignedTreeHead> {
  const res = await anonymous().get<SignedTreeHead>('/kt/head');
  verifyTreeHead(res.body, logPublicKeyOf(server.settings.secrets.ktLogKey));
  return res.body;
}

async function statementsOf(teamId: string): Promise<string[]> {
  const res = await admin.api.get<{ statements: { signed: string }[] }>(
    `/teams/${teamId}/statements?from=0`,
  );
  return res.body.statements.map((s) => s.signed);
}

describe('team statements in the log', () => {
  it('when a team is created, gains and loses a member, then each statement is a leaf and the history proves the team', async () => {
    const practice = await createPracticeAs(admin);
    const team = await createTeamAs(admin, practice);
    await addMember(team, admin, nurse, 'nurse');
    await removeMember(team, admin, nurse, [admin, nurse]);
    const h = await head();
    const res = await anonymous().get<KtHistoryResponse>(
      `/kt/teams/${team.id}/history?size=${h.size}`,
    );
    expect(res.status).toBe(200);
    expect(res.body.bindings.map((b) => parseBinding(b.leaf.data))).toEqual(
      [0, 1, 2].map((seq) =>
        expect.objectContaining({ type: 'team-statement', teamId: team.id, seq }),
      ),
    );
    const last = parseBinding(res.body.bindings[2]?.leaf.data ?? '');
    expect(last).toMatchObject({
      statementHash: team.state.head,
      genesis: team.state.genesis,
      teamKeyFingerprint: team.state.keys.at(-1)?.fingerprint,
    });
    expect(
      await checkTeamInLog({
        head: h,
        state: team.state,
        statements: await statementsOf(team.id),
        history: res.body.bindings,
        map: res.body.map,
      }),
    ).toEqual({ status: 'ok' });
  });

  it('when a statement is refused (a lost race for its seq), then nothing is logged for it', async () => {
    const practice = await createPracticeAs(admin, 'Race practice');
    const team = await createTeamAs(admin, practice);
    const first = await statementBody(team, admin, {
      type: 'update',
      userId: admin.id as never,
      role: 'nurse',
      admin: true,
    });
    const second = await statementBody(team, admin, {
      type: 'update',
      userId: admin.id as never,
      role: 'staff',
      admin: true,
    });
    expect((await admin.api.post(`/teams/${team.id}/statements`, first.body)).status).toBe(201);
    expect(codeOf(await admin.api.post(`/teams/${team.id}/statements`, second.body))).toBe(
      'team-head-moved',
    );
    const h = await head();
    const res = await anonymous().get<KtHistoryResponse>(
      `/kt/teams/${team.id}/history?size=${h.size}`,
    );
    expect(res.body.bindings.map((b) => parseBinding(b.leaf.data))).toEqual([
      expect.objectContaining({ seq: 0 }),
      expect.objectContaining({ seq: 1, statementHash: first.made.state.head }),
    ]);
  });

  it('when a team has no leaves or the size is not signed, then an empty history or kt-bad-size', async () => {
    const h = await head();
    const none = await anonymous().get<KtHistoryResponse>(
      `/kt/teams/AAAAAAAAAAAAAAAAAAAAAA/history?size=${h.size}`,
    );
    expect(none.body).toEqual({
      size: h.size,
      bindings: [],
      map: expect.objectContaining({ siblings: expect.any(Array) }),
    });
    expect(
      verifyMapLookup(
        h.v === 2 ? h.mapRoot : '',
        teamSubject('AAAAAAAAAAAAAAAAAAAAAA'),
        none.body.map,
      ),
    ).toBeNull();
    expect(
      codeOf(await anonymous().get(`/kt/teams/AAAAAAAAAAAAAAAAAAAAAA/history?size=${h.size + 9}`)),
    ).toBe('kt-bad-size');
  });
});
