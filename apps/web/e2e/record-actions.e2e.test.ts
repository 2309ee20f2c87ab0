// Issues 13 and 14: a record page offers only the actions the server allows the user
// (apps/server records/access.ts): a care team member may write for the patient under her
// consent to the team, but not share; the owner may do everything. Seeded from Node through the
// real API; judged in real Chromium against the real server.
import type { Page } from 'playwright-core';
import * as pgp from '@medseal/crypto';
import type { RecordId, UserId } from '@medseal/crypto';
import { api, registerUser } from './support/api';
import { accountsWith, go, loginAs, type Account } from './support/app';
import { newDevice, screenshots, type CapturedRequest } from './support/browser';
import { browserSuite } from './support/suite';
import { settled } from './support/victim';
import {
  addMember,
  consentToTeam,
  createNote,
  createTeam,
  newId,
  shareWithTeam,
  type NodeTeam,
  type NodeUser,
  registeredUsers,
} from './support/teams';

const account = accountsWith('Quarry-Meadow-58');
const admin = account('doctor', 'Dr Ida Admin', 'ida-admin@example.org');
const member = account('doctor', 'Dr Mo Member', 'mo-member@example.org');
const patient = account('patient', 'Pam Patient', 'pam-patient@example.org');

const suite = browserSuite();
const captured: CapturedRequest[] = [];
const users = registeredUsers();
const { user } = users;
let team: NodeTeam;
let patientRecord: string;
let memberNote: string;

/** A note `writer` writes for `owner` through the team, as the app does (to the patient and the team key, not to herself). */
async function teamNote(writer: NodeUser, owner: NodeUser, title: string): Promise<string> {
  const id = newId();
  const teamKey = team.keys[team.keys.length - 1];
  if (!teamKey) throw new Error('a team always has a key');
  const { message } = await pgp.sealRecord({
    envelope: {
      recordId: id as RecordId,
      version: 1,
      ownerId: owner.id as UserId,
      authorId: writer.id as UserId,
      createdAt: new Date().toISOString(),
      content: {
        v: 1,
        kind: 'note',
        title,
        date: '2026-12-03',
        body: 'Seen with the team.',
        attachments: [],
      },
    },
    authorKey: writer.key.privateKey,
    recipientKeys: [owner.key.publicKey, teamKey.publicKey],
  });
  await api(writer.session, 'POST', '/records', {
    recordId: id,
    ownerId: owner.id,
    recipients: [{ userId: owner.id, fingerprint: owner.key.fingerprint }],
    teams: [{ teamId: team.id, fingerprint: teamKey.ref.fingerprint }],
    message,
  });
  return id;
}

async function openAs(who: Account): Promise<Page> {
  const { page } = await newDevice(suite.browser, captured);
  await loginAs(page, suite.server.baseUrl, who);
  return page;
}

/** Opens a record and waits until it verified and the offered actions are settled (the consent check done). */
async function openRecordPage(page: Page, recordId: string, settledBy: 'Edit' | 'Share…') {
  await go(page, `/records/${recordId}`);
  await page
    .getByText(/^(Verified:|Signed by)/)
    .first()
    .waitFor({ timeout: 30_000 });
  await page
    .getByRole(settledBy === 'Edit' ? 'link' : 'button', { name: settledBy, exact: true })
    .waitFor({ timeout: 30_000 });
}

beforeAll(async () => {
  for (const a of [admin, member, patient])
    users.set(a, await registerUser(suite.server.baseUrl, a));
  team = await createTeam(user(admin));
  await addMember(team, user(admin), user(member));
  await consentToTeam(user(patient), team);
  const record = await createNote(user(patient), 'Knee MRI');
  await shareWithTeam(user(patient), team, record);
  patientRecord = record.id;
  memberNote = await teamNote(user(member), user(patient), 'Physio plan');
});

describe('record actions offered (real Chromium)', () => {
  let memberPage: Page;

  it('when a member opens a note she wrote for the patient through her team, then she is offered Edit but not Share (the server lets members write, not share)', async () => {
    memberPage = await openAs(member);
    await openRecordPage(memberPage, memberNote, 'Edit');
    expect(await memberPage.getByRole('button', { name: 'Share…' }).count()).toBe(0);
    expect(await memberPage.getByRole('button', { name: /Stop sharing|Remove/ }).count()).toBe(0);
    await screenshots(memberPage, 'record-member-actions');
  });

  it('when a member opens the patient’s own record shared with the team, then she is offered Edit, not Share, and saving her edit works', async () => {
    await openRecordPage(memberPage, patientRecord, 'Edit');
    expect(await memberPage.getByRole('button', { name: 'Share…' }).count()).toBe(0);
    await memberPage.getByRole('link', { name: 'Edit', exact: true }).click();
    await memberPage.getByLabel('Notes').fill('Reviewed by the team: no tear.');
    await memberPage.getByRole('button', { name: 'Encrypt and save new version' }).click();
    await memberPage.waitForURL((url) => url.pathname === `/records/${patientRecord}`, {
      timeout: 60_000,
    });
    await memberPage.getByText('Reviewed by the team: no tear.').waitFor({ timeout: 30_000 });
    const stored = await api<{ version: number; authorId: string }>(
      user(patient).session,
      'GET',
      `/records/${patientRecord}`,
    );
    expect(stored).toMatchObject({ version: 2, authorId: user(member).id });
  });

  it('when the patient opens the note the member wrote for her, then she is offered Edit, Share and Delete', async () => {
    const page = await openAs(patient);
    await openRecordPage(page, memberNote, 'Share…');
    await page.getByRole('link', { name: 'Edit', exact: true }).waitFor();
    await page.getByRole('button', { name: 'Delete this record…' }).waitFor();
  });

  it('when the patient stops the team writing for her, then the member is offered no Edit any more (the server would refuse it: no consent)', async () => {
    // Her withdrawal, signed with her key (as her Contacts page makes it): the next statement about the team.
    const { signedConsent } = await pgp.createConsent({
      consent: {
        patientId: user(patient).id,
        subject: {
          kind: 'team',
          id: team.id,
          fingerprint: team.state.root.fingerprint,
          genesis: team.state.genesis,
        },
        seq: 2,
        withdrawnAt: new Date(),
      },
      patientKey: user(patient).key.privateKey,
    });
    await api(
      user(patient).session,
      'PUT',
      `/patients/${user(patient).id}/team-consents/${team.id}`,
      { signedConsent },
    );
    // Opened again (she was on it): the page asks anew.
    await go(memberPage, '/records');
    await go(memberPage, `/records/${patientRecord}`);
    await memberPage.getByText('Reviewed by the team: no tear.').waitFor({ timeout: 30_000 });
    await settled(memberPage);
    expect(await memberPage.getByRole('link', { name: 'Edit', exact: true }).count()).toBe(0);
    expect(await memberPage.getByRole('button', { name: 'Share…' }).count()).toBe(0);
    await go(memberPage, `/records/${patientRecord}/edit`);
    await memberPage
      .getByText('You can read this record but not change it', { exact: false })
      .waitFor({ timeout: 30_000 });
  });

  it('when a member asks the server to share anyway, then it refuses (what the page left out is what the server forbids)', async () => {
    const stranger = await registerUser(
      suite.server.baseUrl,
      account('doctor', 'Dr Sy Stranger', 'sy-stranger@example.org'),
    );
    const res = await fetch(
      `${suite.server.baseUrl}/api/records/${memberNote}/grants/${stranger.id}`,
      {
        method: 'DELETE',
        headers: {
          'x-medseal-csrf': '1',
          'x-medseal-client': '1.0.0',
          origin: suite.server.baseUrl,
          cookie: user(member).session.cookie,
        },
      },
    );
    expect(res.status).toBe(403);
  });
});
