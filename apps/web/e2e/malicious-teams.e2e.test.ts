// Malicious server, care teams (issue 13 "Bad input and attacks": the server adds a member on its
// own or hides a removal → clients detect it; DESIGN §12, §13). The patient and a member verified
// the team once; the head of its signed history is in their signed account state. On another of
// their devices the operator then rewrites the team's history answer: without the removal, with
// a member no admin signed in. The tests judge by what the user sees.
//
// What the app must provide: a record a care team reads is not shown when the team's history is
// refused, with a security warning (role=alert) that says why in plain words; the team page shows
// the same warning instead of the members.
import type { Page } from 'playwright-core';
import { openAccountState, signTeamStatement, type UserId } from '@medseal/crypto';
import type { RecordDto, TeamStatementsResponse } from '@medseal/contract';
import { api, registerUser } from './support/api';
import { accountsWith, go, loginAs, type Account } from './support/app';
import { newDevice, type CapturedRequest } from './support/browser';
import {
  expectSecurityWarning,
  rewriteJson,
  securityWarnings,
  shownText,
  stopAll,
  type Attack,
} from './support/malicious-server';
import { browserSuite } from './support/suite';
import {
  addMember,
  createNote,
  createTeam,
  removeMember,
  shareWithTeam,
  type NodeTeam,
  registeredUsers,
} from './support/teams';
import { closeDevices, freshDevice, openRecordPage, settled } from './support/victim';

const account = accountsWith('Copper-Meadow-58');
const patient = account('patient', 'Ida Patient', 'ida-patient@example.org');
const member = account('doctor', 'Dr Mia Member', 'mia-member@example.org');
const admin = account('doctor', 'Dr Otto Admin', 'otto-admin@example.org');
const leaver = account('doctor', 'Dr Lars Leaver', 'lars-leaver@example.org');
// The operator's own doctor account: its key signs what the server claims an admin signed.
const intruder = account('doctor', 'Dr Ivo Intruder', 'ivo-intruder@evil.example');
const TITLE = 'Holter monitor results';

const suite = browserSuite({ readCacheTtlMs: 0 });
const captured: CapturedRequest[] = [];
const attacks: Attack[] = [];
const stage = { suite, captured, attacks };
const users = registeredUsers();
const { user } = users;
let team: NodeTeam;
let recordId: string;
let statementsPath: string;

beforeAll(async () => {
  for (const a of [patient, member, admin, leaver, intruder])
    users.set(a, await registerUser(suite.server.baseUrl, a));
  team = await createTeam(user(admin));
  statementsPath = `/api/teams/${team.id}/statements`;
  await addMember(team, user(admin), user(member));
  await addMember(team, user(admin), user(leaver));
  const record = await createNote(user(patient), TITLE);
  recordId = record.id;
  await shareWithTeam(user(patient), team, record);
  await removeMember(team, user(admin), user(leaver), [user(admin), user(member)]);
});

afterEach(async () => {
  await stopAll(attacks);
  await closeDevices();
});

/** The team heads in `who`'s signed account state, as her key opens it. */
async function pinnedTeams(who: Account) {
  const stored = await api<{ blob: string | null }>(user(who).session, 'GET', '/account-state');
  if (!stored.blob) throw new Error('no account state');
  const opened = await openAccountState({
    message: Buffer.from(stored.blob, 'base64url'),
    userId: user(who).id,
    key: user(who).key.privateKey,
  });
  if (opened.status !== 'verified') throw new Error(`account state: ${opened.status}`);
  return opened.state.teams ?? [];
}

/** The history answer without the removal (and anything after it): the leaver is a member again. */
const withoutRemoval = (page: Page) =>
  rewriteJson<TeamStatementsResponse>(page, { method: 'GET', path: statementsPath }, (body) => {
    const removal = team.state.seq;
    return {
      ...body,
      statements: body.statements.filter((s) => s.seq < removal),
      headSeq: removal - 1,
    };
  });

/**
 * The history answer with one more statement that puts the leaver back, signed by the operator's
 * own doctor as if she were an admin (the server cannot sign as one).
 */
async function withLeaverAddedBack(page: Page): Promise<Attack> {
  const asIfAdmin = {
    ...team.state,
    members: [
      ...team.state.members,
      {
        userId: user(intruder).id as UserId,
        fingerprint: user(intruder).key.fingerprint,
        role: 'doctor' as const,
        admin: true,
        since: team.state.at,
        signedBy: user(intruder).id as UserId,
        seq: 0,
      },
    ],
  };
  const forged = await signTeamStatement({
    state: asIfAdmin,
    change: {
      type: 'add',
      member: {
        userId: user(leaver).id as UserId,
        fingerprint: user(leaver).key.fingerprint,
        role: 'doctor',
        admin: false,
      },
    },
    signerId: user(intruder).id as UserId,
    signerKey: user(intruder).key.privateKey,
  });
  const publicKey = user(intruder).key.publicKey;
  return rewriteJson<TeamStatementsResponse>(
    page,
    { method: 'GET', path: statementsPath },
    (body) =>
      body.statements.length === 0
        ? body
        : {
            statements: [...body.statements, { seq: forged.statement.seq, signed: forged.signed }],
            headSeq: forged.statement.seq,
            publicKeys: [
              ...body.publicKeys,
              { userId: user(intruder).id, fingerprint: user(intruder).key.fingerprint, publicKey },
            ],
          },
  );
}

async function readsTheRecord(page: Page) {
  await openRecordPage(page, recordId, page.getByText('Verified: written and signed by you.'));
  expect(await securityWarnings(page).allTextContents()).toEqual([]);
  await page
    .getByRole('region', { name: 'Care teams who can read this record' })
    .getByText(member.name)
    .waitFor();
}

describe('malicious server: a care team’s history (real Chromium)', () => {
  it('when the patient opens a record her care team reads, then the head of the team’s history (with the removal) is in her signed account state', async () => {
    const { page } = await newDevice(suite.browser, captured);
    await loginAs(page, suite.server.baseUrl, patient);
    await readsTheRecord(page);
    expect(await pinnedTeams(patient)).toEqual([
      {
        teamId: team.id,
        genesis: team.state.genesis,
        root: user(admin).key.fingerprint,
        seq: team.state.seq,
        head: team.state.head,
      },
    ]);
  });

  it('when the server hides the removal on her other device, then the record is not shown and a warning says a removal may be hidden', async () => {
    const page = await freshDevice(stage, patient, async (p) => [await withoutRemoval(p)]);
    await openRecordPage(page, recordId, page.getByText('Verified: written and signed by you.'));
    expect(attacks[0]?.hits).toBeGreaterThan(0);
    expect((await securityWarnings(page).allTextContents()).join(' ')).toMatch(
      /removal may be hidden/,
    );
    const shown = await shownText(page);
    expect(shown).not.toContain('Verified: written and signed by you.');
    expect(shown).not.toContain(leaver.name);
  });

  it('when the server adds a member on its own, then the record is not shown, a warning says so, and she is never listed', async () => {
    const page = await freshDevice(stage, patient, async (p) => [await withLeaverAddedBack(p)]);
    await openRecordPage(page, recordId, page.getByText('Verified: written and signed by you.'));
    expect(attacks[0]?.hits).toBeGreaterThan(0);
    expect((await securityWarnings(page).allTextContents()).join(' ')).toMatch(
      /added to it without an admin’s signature/,
    );
    const shown = await shownText(page);
    expect(shown).not.toContain(leaver.name);
    expect(shown).not.toContain(intruder.name);
  });

  it('when the server lists a team of its own on her record with a reader’s fingerprint, then the record is not shown and that team is never named as a reader', async () => {
    const evil = await createTeam(user(intruder), 'Night Clinic', 'Harbour Practice');
    const page = await freshDevice(stage, patient, async (p) => [
      await rewriteJson<RecordDto>(
        p,
        { method: 'GET', path: `/api/records/${recordId}` },
        (dto) => ({
          ...dto,
          teams: [
            ...dto.teams,
            { teamId: evil.id, gen: 1, fingerprint: user(patient).key.fingerprint },
          ],
        }),
      ),
    ]);
    await openRecordPage(page, recordId, page.getByText('Verified: written and signed by you.'));
    expect(attacks[0]?.hits).toBeGreaterThan(0);
    await expectSecurityWarning(page);
    const shown = await shownText(page);
    expect(shown).not.toContain('Verified: written and signed by you.');
    expect(shown).not.toContain('Night Clinic');
  });

  it('when a member verified the team and the server hides the removal on her other device, then the team page warns instead of listing members', async () => {
    const { page: first } = await newDevice(suite.browser, captured);
    await loginAs(first, suite.server.baseUrl, member);
    await go(first, `/teams/${team.id}`);
    await first.locator(`tr[data-member="${user(admin).id}"]`).waitFor({ timeout: 60_000 });
    expect((await pinnedTeams(member)).map((t) => t.seq)).toEqual([team.state.seq]);

    const page = await freshDevice(stage, member, async (p) => [await withoutRemoval(p)]);
    await go(page, `/teams/${team.id}`);
    await securityWarnings(page).first().waitFor({ timeout: 60_000 });
    await settled(page);
    expect((await securityWarnings(page).allTextContents()).join(' ')).toMatch(
      /removal may be hidden/,
    );
    expect(await shownText(page)).not.toContain(leaver.name);
  });
});
