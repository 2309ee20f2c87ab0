// Attack and bad input on care-team statements (DESIGN §13): a membership not signed by a
// current admin, signed by a removed admin, for another fingerprint, replayed by someone else,
// out of order, with a key or envelopes that do not fit. Each gets a clear error with a stable
// code, and nothing is stored: no statement, no envelope, no membership, the team unchanged.
import {
  generateTeamKey,
  signTeamStatement,
  type TeamChange,
  type TeamState,
  type UserId,
} from '@medseal/crypto';
import type { TeamDto } from '@medseal/contract';
import { codeOf, type ApiResponse } from '../helpers/client';
import {
  addMember,
  asIfAdmin,
  createPracticeAs,
  createTeamAs,
  createTeamBody,
  memberEntry,
  removeMember,
  statementBody,
  tampered,
  type TestTeam,
} from '../helpers/teams';
import { registerUser, type TestUser } from '../helpers/users';
import { startTestServer, type TestServer } from '../support';

let server: TestServer;
let admin: TestUser;
let admin2: TestUser;
let member: TestUser;
let newcomer: TestUser;
let other: TestUser;
beforeAll(async () => {
  server = await startTestServer();
  const doctor = (name: string) => registerUser(server.baseUrl, { name, role: 'doctor' });
  [admin, admin2, member, newcomer, other] = await Promise.all([
    doctor('Dr Admin'),
    doctor('Dr Second'),
    doctor('Dr Member'),
    doctor('Dr New'),
    doctor('Dr Other'),
  ]);
});
afterAll(() => server.close());

const everyone = () => [admin, admin2, member, newcomer, other];

async function team(): Promise<TestTeam> {
  const t = await createTeamAs(admin, await createPracticeAs(admin));
  await addMember(t, admin, admin2, 'staff', true);
  await addMember(t, admin, member);
  return t;
}

/** Counts of everything a team change writes, to show a refused one wrote nothing. */
async function footprint(t: TestTeam) {
  const count = (name: string, field = 'teamId') =>
    server.connection.collection(name).countDocuments({ [field]: t.id });
  const dto = await admin.api.get<TeamDto>(`/teams/${t.id}`);
  return {
    statements: await count('team_statements'),
    envelopes: await count('team_key_envelopes'),
    joins: await count('team_joins', 'id'),
    team: dto.body,
  };
}

async function expectRefused(
  t: TestTeam,
  send: () => Promise<ApiResponse>,
  status: number,
  code: string,
) {
  const before = await footprint(t);
  const res = await send();
  expect([res.status, codeOf(res)]).toEqual([status, code]);
  expect(JSON.stringify(res.body)).not.toContain('-----BEGIN');
  expect(await footprint(t)).toEqual(before);
}

/**
 * Signs `change` against a state the signer was made to believe (the real head, other members):
 * what a removed admin, a member or a server holding someone's key could send.
 */
async function signedAgainst(state: TeamState, change: TeamChange, signer: TestUser, at?: Date) {
  const made = await signTeamStatement({
    state,
    change,
    signerId: signer.id as UserId,
    signerKey: signer.key.privateKey,
    ...(at ? { at } : {}),
  });
  return made.signed;
}

const post = (user: TestUser, t: TestTeam, body: unknown) => () =>
  user.api.post(`/teams/${t.id}/statements`, body);
const addOf = (u: TestUser) => ({ type: 'add' as const, member: memberEntry(u) });

describe('attack: team statements the server must refuse', () => {
  it('when a member who is not an admin signs an addition, then 403 not-team-admin', async () => {
    const t = await team();
    const statement = await signedAgainst(asIfAdmin(t, member).state, addOf(newcomer), member);
    await expectRefused(t, post(member, t, { statement }), 403, 'not-team-admin');
  });

  it('when a removed admin signs an addition, then 403 not-team-admin', async () => {
    const t = await team();
    await removeMember(t, admin, admin2, everyone());
    const statement = await signedAgainst(asIfAdmin(t, admin2).state, addOf(newcomer), admin2);
    await expectRefused(t, post(admin2, t, { statement }), 403, 'not-team-admin');
  });

  it("when the admin's signed statement is altered to add someone else, then 400 bad-signature", async () => {
    const t = await team();
    const signed = await signedAgainst(t.state, addOf(newcomer), admin);
    const statement = tampered(signed, newcomer.id, other.id);
    await expectRefused(t, post(admin, t, { statement }), 400, 'bad-signature');
  });

  it("when the membership names another fingerprint than the member's key, then 400 fingerprint-mismatch", async () => {
    const t = await team();
    const built = await statementBody(
      t,
      admin,
      {
        type: 'add',
        member: {
          ...memberEntry(newcomer),
          fingerprint: other.fingerprint as TeamState['root']['fingerprint'],
        },
      },
      { recipients: [newcomer] },
    );
    await expectRefused(t, post(admin, t, built.body), 400, 'fingerprint-mismatch');
  });

  it("when someone other than the signer sends an admin's statement, then 403 not-the-signer", async () => {
    const t = await team();
    const built = await statementBody(t, admin, addOf(newcomer), { recipients: [newcomer] });
    await expectRefused(t, post(other, t, built.body), 403, 'not-the-signer');
  });

  it('when a statement skips a position, then 400 team-chain-broken; an old position is 409 team-head-moved', async () => {
    const t = await team();
    const skipping = await signedAgainst(
      { ...t.state, seq: t.state.seq + 1 },
      addOf(newcomer),
      admin,
    );
    await expectRefused(t, post(admin, t, { statement: skipping }), 400, 'team-chain-broken');
    const old = await signedAgainst({ ...t.state, seq: t.state.seq - 1 }, addOf(newcomer), admin);
    await expectRefused(t, post(admin, t, { statement: old }), 409, 'team-head-moved');
  });

  it('when a statement breaks a team rule, then 400 team-rule-violated naming the rule', async () => {
    const t = await team();
    const statement = await signedAgainst(
      { ...t.state, members: t.state.members.filter((m) => m.userId !== member.id) },
      addOf(member),
      admin,
    );
    const res = await admin.api.post(`/teams/${t.id}/statements`, { statement });
    expect([res.status, codeOf(res)]).toEqual([400, 'team-rule-violated']);
    expect((res.body as { error: { details: unknown } }).error.details).toEqual({
      rule: 'already-member',
    });
  });

  it('when a statement is dated an hour ahead, then 400 statement-time', async () => {
    const t = await team();
    const statement = await signedAgainst(
      t.state,
      addOf(newcomer),
      admin,
      new Date(Date.now() + 3600_000),
    );
    await expectRefused(t, post(admin, t, { statement }), 400, 'statement-time');
  });

  it("when an addition comes without the newcomer's envelope, or with one for someone else, then 400 key-envelopes-mismatch", async () => {
    const t = await team();
    const built = await statementBody(t, admin, addOf(newcomer));
    await expectRefused(t, post(admin, t, built.body), 400, 'key-envelopes-mismatch');
    const wrong = await statementBody(t, admin, addOf(newcomer), { recipients: [other] });
    await expectRefused(t, post(admin, t, wrong.body), 400, 'key-envelopes-mismatch');
  });

  it("when an envelope is encrypted to another key than its member's, then 400 recipient-mismatch", async () => {
    const t = await team();
    const built = await statementBody(t, admin, addOf(newcomer), { recipients: [other] });
    const body = {
      ...built.body,
      keyEnvelopes: built.body.keyEnvelopes?.map((e) => ({ ...e, memberId: newcomer.id })),
    };
    await expectRefused(t, post(admin, t, body), 400, 'recipient-mismatch');
  });

  it('when a removal comes without the new team key, with another key, or leaves a member without the key, then 400', async () => {
    const t = await team();
    const next = await generateTeamKey();
    const change = { type: 'remove' as const, userId: member.id as UserId, teamKey: next.ref };
    const full = await statementBody(t, admin, change, {
      recipients: [admin, admin2],
      teamKey: next,
    });
    const { teamPublicKey: _dropped, ...withoutKey } = full.body;
    await expectRefused(t, post(admin, t, withoutKey), 400, 'team-key-required');
    await expectRefused(
      t,
      post(admin, t, { ...full.body, teamPublicKey: (await generateTeamKey()).publicKey }),
      400,
      'team-key-mismatch',
    );
    await expectRefused(
      t,
      post(admin, t, { ...full.body, keyEnvelopes: full.body.keyEnvelopes?.slice(0, 1) }),
      400,
      'key-envelopes-mismatch',
    );
    // the removed member must not get the new key
    const leakToLeaver = await statementBody(t, admin, change, {
      recipients: [admin, admin2, member],
      teamKey: next,
    });
    await expectRefused(t, post(admin, t, leakToLeaver.body), 400, 'key-envelopes-mismatch');
  });

  it('when a role update carries a key or envelopes, then 400 key-envelopes-mismatch', async () => {
    const t = await team();
    const built = await statementBody(
      t,
      admin,
      { type: 'update', userId: member.id as UserId, role: 'nurse', admin: false },
      { recipients: [member] },
    );
    await expectRefused(t, post(admin, t, built.body), 400, 'key-envelopes-mismatch');
  });

  it('when garbage or a statement of a newer format is sent, then 400 team-statement-malformed / unsupported-format', async () => {
    const t = await team();
    await expectRefused(
      t,
      post(admin, t, { statement: 'not a statement' }),
      400,
      'team-statement-malformed',
    );
    const v2 = tampered(await signedAgainst(t.state, addOf(newcomer), admin), '"v":1', '"v":2');
    await expectRefused(t, post(admin, t, { statement: v2 }), 400, 'unsupported-format');
  });
});

describe('attack: team creation the server must refuse', () => {
  it('when a doctor who does not administer the practice creates a team in it, then 404 practice-not-found', async () => {
    const practice = await createPracticeAs(admin);
    const { body } = await createTeamBody(other, practice);
    const res = await other.api.post(`/practices/${practice.id}/teams`, body);
    expect([res.status, codeOf(res)]).toEqual([404, 'practice-not-found']);
  });

  it('when the statement names another practice, or the id is taken, then 400 practice-mismatch / 409 team-exists', async () => {
    const practice = await createPracticeAs(admin);
    const elsewhere = await createTeamBody(admin, { id: practice.id, name: 'Another name' });
    const res = await admin.api.post(`/practices/${practice.id}/teams`, elsewhere.body);
    expect([res.status, codeOf(res)]).toEqual([400, 'practice-mismatch']);
    const first = await createTeamBody(admin, practice);
    expect((await admin.api.post(`/practices/${practice.id}/teams`, first.body)).status).toBe(201);
    const again = await createTeamBody(admin, practice, { teamId: first.team.id });
    const taken = await admin.api.post(`/practices/${practice.id}/teams`, again.body);
    expect([taken.status, codeOf(taken)]).toEqual([409, 'team-exists']);
    expect(
      await server.connection
        .collection('team_statements')
        .countDocuments({ teamId: first.team.id }),
    ).toBe(1);
  });

  it('when the team key sent is not the one the creation names, then 400 team-key-mismatch and no team', async () => {
    const practice = await createPracticeAs(admin);
    const { body, team: t } = await createTeamBody(admin, practice);
    const res = await admin.api.post(`/practices/${practice.id}/teams`, {
      ...body,
      teamPublicKey: (await generateTeamKey()).publicKey,
    });
    expect([res.status, codeOf(res)]).toEqual([400, 'team-key-mismatch']);
    expect((await admin.api.get(`/teams/${t.id}`)).status).toBe(404);
  });
});
