import type { Page } from 'playwright-core';
import { newDevice, type CapturedRequest } from './support/browser';
import {
  openRecord,
  teamKeyRef,
  unwrapTeamKey,
  type Fingerprint,
  type GeneratedUserKey,
  type RecordId,
  type UserId,
} from '@medseal/crypto';
import { api, registerUser, type Session } from './support/api';
import { browserSuite } from './support/suite';
import { accountsWith, createNote, go, JARGON, loginAs, type Account } from './support/app';
import { leaksOf, privateKeysIn } from './support/leaks';
import { renameInDirectory, totalHits } from './support/malicious-server';

// Issue 13 end to end, in real Chromium against the real server: an admin creates a team with
// two doctors; the patient checks the team admin's key and shares a record with the team; both
// doctors read it; one writes a note with a file the patient sees attested, whose file the patient
// and a colleague open; a third doctor joins and reads with nothing re-encrypted; one leaves and
// gets 404 at once, and the re-keyed note's file still opens for the remaining members.
const suite = browserSuite();
const captured: CapturedRequest[] = [];
const account = accountsWith('Harbour-Lantern-41');
const admin = account('doctor', 'Dr Ada Admin', 'ada-admin@example.org');
const drA = account('doctor', 'Dr Alma Alpha', 'alma-alpha@example.org');
const drB = account('doctor', 'Dr Bea Beta', 'bea-beta@example.org');
const drC = account('doctor', 'Dr Cy Gamma', 'cy-gamma@example.org');
const drD = account('doctor', 'Dr Dov Delta', 'dov-delta@example.org');
const patient = account('patient', 'Pia Patient', 'pia-patient@example.org');
const newcomer = account('patient', 'Nell Newcomer', 'nell-newcomer@example.org');
const TITLE = 'Echocardiogram follow-up';
const NOTE = 'Team note on the echo';
const FILE_NAME = 'echo-report.pdf';
const FILE_TEXT = 'Medseal team attachment: ejection fraction 55 percent';

let adminPage: Page;
let patientPage: Page;
let recordId: string;
let noteId: string;
const sessions = new Map<Account, Session>();
const keys = new Map<Account, GeneratedUserKey>();
const ids = new Map<Account, string>();
let teamId: string;

async function openAs(who: Account): Promise<Page> {
  const { page } = await newDevice(suite.browser, captured);
  await loginAs(page, suite.server.baseUrl, who);
  return page;
}

async function addToTeam(who: Account) {
  await adminPage.getByLabel('Their email').fill(who.email);
  await adminPage.getByRole('button', { name: 'Add to the team' }).click();
  // A doctor whose numbers she never compared: the first-contact question, then the explicit choice.
  await adminPage
    .getByRole('region', { name: `First time adding ${who.name}` })
    .getByRole('button', { name: 'Add without comparing' })
    .click();
  await adminPage.locator('tr', { hasText: who.name }).waitFor();
}

/** Downloads the note's file on `page` (the note open there) and returns its text. */
async function downloadedFile(page: Page): Promise<string> {
  const [download] = await Promise.all([
    page.waitForEvent('download', { timeout: 60_000 }),
    page.getByRole('button', { name: `Download ${FILE_NAME}` }).click(),
  ]);
  const chunks: Buffer[] = [];
  for await (const chunk of await download.createReadStream()) chunks.push(chunk as Buffer);
  return Buffer.concat(chunks).toString('utf8');
}

/** The doctor's Patients page lists the patient; her record opens verified. */
async function readsTheRecord(page: Page) {
  await go(page, '/patients');
  await page.getByRole('link', { name: patient.name }).click();
  await page.getByRole('region', { name: 'Records' }).getByText(TITLE).click();
  await page.getByText(`Signed by ${patient.name}`).waitFor({ timeout: 30_000 });
}

describe('care teams (real Chromium)', () => {
  beforeAll(async () => {
    for (const who of [admin, drA, drB, drC, drD, patient, newcomer]) {
      const registered = await registerUser(suite.server.baseUrl, who);
      sessions.set(who, registered.session);
      keys.set(who, registered.key);
      ids.set(who, registered.id);
    }
  });

  it('when an admin creates a practice and a team and adds two doctors by email, then each is listed with the role she signed', async () => {
    adminPage = await openAs(admin);
    await go(adminPage, '/teams');
    await adminPage.getByLabel('Practice name').fill('St Mary’s');
    await adminPage.getByRole('button', { name: 'Create practice' }).click();
    await adminPage.getByRole('heading', { name: 'St Mary’s' }).waitFor();
    await adminPage.getByLabel('New team name').fill('Cardiology');
    await adminPage.getByRole('button', { name: 'Create team' }).click();
    await adminPage
      .getByRole('list', { name: 'Your teams' })
      .getByRole('link', { name: 'Cardiology' })
      .click();
    await adminPage.getByRole('heading', { name: 'Cardiology (St Mary’s)' }).waitFor();
    await addToTeam(drA);
    await addToTeam(drB);
    const row = await adminPage.locator('tr', { hasText: drA.name }).textContent();
    expect(row).toContain('Doctor');
    expect(row).toContain(admin.name);
    // Plain words (issue 14): how patients check the team, its key one click away under Details.
    expect(await adminPage.locator('main').innerText()).not.toMatch(JARGON);
    await adminPage.getByText('Details', { exact: true }).click();
    const founderKey = await api<{ fingerprint: string }>(
      sessions.get(admin) as Session,
      'GET',
      '/auth/me',
    );
    expect(
      await adminPage
        .getByRole('group', { name: 'Founder’s key fingerprint' })
        .getAttribute('data-fingerprint'),
    ).toBe(founderKey.fingerprint);
  });

  it('when the patient checks the team admin’s key and shares a record with the team, then the record lists the team and its members', async () => {
    patientPage = await openAs(patient);
    recordId = await createNote(patientPage, TITLE, 'EF 55%, no regional wall motion abnormality.');
    await patientPage.getByRole('button', { name: 'Share…' }).click();
    await patientPage.getByLabel('Team name').fill('Card');
    await patientPage.getByRole('button', { name: 'Search teams' }).click();
    await patientPage.getByRole('button', { name: 'Cardiology (St Mary’s)' }).click();
    const check = patientPage.getByTestId('key-check');
    await check.waitFor();
    await check.getByRole('button', { name: `Compare numbers with ${admin.name}` }).click();
    const compare = patientPage.getByTestId('key-verification');
    await compare.getByText('Details').click();
    const adminKey = await api<{ fingerprint: string }>(
      sessions.get(admin) as Session,
      'GET',
      '/auth/me',
    );
    expect(
      await compare
        .getByRole('group', { name: 'Their key fingerprint' })
        .getAttribute('data-fingerprint'),
    ).toBe(adminKey.fingerprint);
    await compare.getByRole('button', { name: 'They match' }).click();
    await check.getByText('Verified', { exact: true }).waitFor();
    // Consent to the team writing for her is offered like a person's, ticked by default.
    expect(
      await patientPage
        .getByLabel('Every current member of Cardiology may also write records for you')
        .isChecked(),
    ).toBe(true);
    await check.getByRole('button', { name: 'Share with Cardiology' }).click();
    const teams = patientPage.getByRole('region', { name: 'Care teams who can read this record' });
    const members = teams.getByRole('list', { name: 'Members of Cardiology' });
    await members.getByText(drB.name).waitFor({ timeout: 30_000 });
    // The admin she compared is marked; a member she never compared is not (his name is the server's).
    const member = (name: string) => members.getByRole('listitem').filter({ hasText: name });
    await member(admin.name).getByText('Verified', { exact: true }).waitFor();
    expect(await member(drB.name).getByText('Verified', { exact: true }).count()).toBe(0);
    await teams.getByText('Names are as the server gives them', { exact: false }).waitFor();
  });

  // Adding wraps the team key to the directory's key for him: it is checked as for sharing.
  it('when the numbers the admin compared with a doctor did not match, then adding him signs nothing and says why', async () => {
    const statements = (r: CapturedRequest) =>
      r.method === 'POST' && /^\/api\/teams\/[^/]+\/statements$/.test(new URL(r.url).pathname);
    const since = captured.length;
    await adminPage.getByLabel('Their email').fill(drD.email);
    await adminPage.getByRole('button', { name: 'Add to the team' }).click();
    await adminPage
      .getByRole('region', { name: `First time adding ${drD.name}` })
      .getByRole('button', { name: 'Compare numbers first' })
      .click();
    await adminPage.getByRole('button', { name: 'They don’t match' }).click();
    await adminPage.getByTestId('key-mismatch').getByRole('button', { name: 'Close' }).click();
    // She tries again: refused with the reason, nothing signed or sent.
    await adminPage.getByLabel('Their email').fill(drD.email);
    await adminPage.getByRole('button', { name: 'Add to the team' }).click();
    await adminPage
      .getByText(`You cannot add ${drD.name} with this key until the numbers match.`)
      .waitFor();
    expect(captured.slice(since).filter(statements)).toEqual([]);
    expect(await adminPage.locator('tr', { hasText: drD.name }).count()).toBe(0);
  });

  // The members' names are the directory's; one she pinned (adding pins the key) keeps hers.
  it('when the directory renames a member the admin added, then her team page shows the name she added him by, and removing him shows his key', async () => {
    const { page } = await newDevice(suite.browser, captured);
    const attacks = await renameInDirectory(page, ids.get(drA) ?? '', 'Dr Trusted Colleague');
    await loginAs(page, suite.server.baseUrl, admin);
    await go(page, '/teams');
    await page
      .getByRole('list', { name: 'Your teams' })
      .getByRole('link', { name: 'Cardiology' })
      .click();
    const row = page.locator('tr', { hasText: drA.name });
    await row.waitFor({ timeout: 30_000 });
    expect(totalHits(attacks)).toBeGreaterThan(0);
    expect(await page.locator('main').innerText()).not.toContain('Dr Trusted Colleague');
    await row.getByRole('button', { name: `Remove ${drA.name}` }).click();
    await page.getByText('Details', { exact: true }).last().click();
    expect(
      await page
        .getByRole('group', { name: `${drA.name}’s key fingerprint` })
        .getAttribute('data-fingerprint'),
    ).toBe(keys.get(drA)?.fingerprint);
    await page.getByRole('button', { name: 'Cancel' }).click();
  });

  it('when both doctors open their patients, then each reads the record through the team', async () => {
    await readsTheRecord(await openAs(drA));
    await readsTheRecord(await openAs(drB));
  });

  // A member writes for the patient under her consent to the team, given (ticked by default)
  // when she shared with it (DESIGN §13).
  it('when a member writes a note with a file for the patient, then the patient sees it attested (member of the team, signed by the admin), and she and a colleague open the file', async () => {
    const page = await openAs(drA);
    await go(page, '/patients');
    await page.getByRole('link', { name: patient.name }).click();
    await page.getByRole('link', { name: 'New record' }).click();
    await page.getByText('to your team Cardiology').waitFor({ timeout: 30_000 });
    await page.getByLabel('Title').fill(NOTE);
    await page.getByLabel('Notes').fill('Reviewed with the team.');
    // Sealed to the patient and the team's current key (the server refused it until 2026-12-04).
    await page.getByLabel(/Add PDF or image files/).setInputFiles({
      name: FILE_NAME,
      mimeType: 'application/pdf',
      buffer: Buffer.from(`%PDF-1.4\n% ${FILE_TEXT}\n%%EOF\n`),
    });
    await page.getByRole('button', { name: 'Encrypt and save' }).click();
    await page.getByText('Verified: written and signed by you.').waitFor({ timeout: 60_000 });
    noteId = new URL(page.url()).pathname.split('/')[2] ?? '';
    await go(patientPage, `/records/${noteId}`);
    await patientPage
      .getByTestId('author-role')
      .getByText(`${drA.name}, doctor in Cardiology (St Mary’s), signed by ${admin.name}.`)
      .waitFor({ timeout: 30_000 });
    // Her consent to the team covers the member: no "Written without your consent".
    expect(await patientPage.getByText(/Written without your consent/).count()).toBe(0);
    expect(await downloadedFile(patientPage)).toContain(FILE_TEXT);
    // A colleague in the team sees that the patient's verified consent lets the author write.
    const colleague = await openAs(drB);
    await go(colleague, `/records/${noteId}`);
    await colleague
      .getByTestId('colleague-consent')
      .getByText(`${drA.name} may write for ${patient.name}`, { exact: false })
      .waitFor({ timeout: 30_000 });
    expect(await downloadedFile(colleague)).toContain(FILE_TEXT);
  });

  // A record's check waits for its access list: the patient is listed once one of her records
  // verified, while the other is still checked. Her link must not move meanwhile: a click aimed
  // at it would land beside it (a "Checking…" line above the list, gone once both verified, made
  // the stop-writing test below fail under load).
  it('when one of a patient’s records is still being checked, then her link on Patients does not move when the check ends', async () => {
    const { page } = await newDevice(suite.browser, captured);
    let release = () => {};
    const held = new Promise<void>((resolve) => (release = resolve));
    const noteAccess = `/api/records/${noteId}/access`;
    await page.route(`**${noteAccess}`, async (route) => {
      await held;
      await route.continue();
    });
    await loginAs(page, suite.server.baseUrl, drA);
    await go(page, '/patients');
    const link = page.getByRole('link', { name: patient.name });
    await link.waitFor({ timeout: 30_000 });
    await page.getByText(/— 1 record you can read/).waitFor();
    // Where the link is under the page's heading (alerts above the heading may come and go),
    // sampled every few milliseconds from now until both records are counted.
    await page.evaluate((name) => {
      const tops: number[] = [];
      (window as unknown as { linkTops: number[] }).linkTops = tops;
      const sample = () => {
        const a = [...document.querySelectorAll('a')].find((el) => el.textContent === name);
        const heading = document.querySelector('h1');
        tops.push(
          a && heading ? a.getBoundingClientRect().top - heading.getBoundingClientRect().top : -1,
        );
      };
      sample();
      const timer = setInterval(sample, 5);
      setTimeout(() => clearInterval(timer), 20_000);
    }, patient.name);
    release();
    await page.getByText(/— 2 records you can read/).waitFor({ timeout: 30_000 });
    const tops = await page.evaluate(() => (window as unknown as { linkTops: number[] }).linkTops);
    expect(tops.length).toBeGreaterThan(1);
    expect([...new Set(tops)]).toEqual([tops[0]]);
    await page.close();
  });

  it('when a third doctor joins, then she reads the record at once and nothing was re-encrypted', async () => {
    const before = await api<{ message: string; version: number }>(
      sessions.get(patient) as Session,
      'GET',
      `/records/${recordId}`,
    );
    await addToTeam(drC);
    await readsTheRecord(await openAs(drC));
    const after = await api<{ message: string; version: number }>(
      sessions.get(patient) as Session,
      'GET',
      `/records/${recordId}`,
    );
    expect(after.version).toBe(before.version);
    expect(after.message).toBe(before.message);
  });

  it('when the admin removes a doctor, then she gets 404 at once, the admin’s browser re-encrypts the records with a progress bar, and the key she kept opens no re-keyed version', async () => {
    // What the leaver could keep: her copy of the team key, unwrapped (here in Node) before she goes.
    const { teams } = await api<{ teams: { id: string }[] }>(
      sessions.get(drB) as Session,
      'GET',
      '/teams',
    );
    teamId = teams[0]?.id ?? '';
    const envelope = await api<{ message: string; fingerprint: string }>(
      sessions.get(drB) as Session,
      'GET',
      `/teams/${teamId}/key-envelopes/1`,
    );
    const team = await api<{ keys: { gen: number; fingerprint: string; publicKey: string }[] }>(
      sessions.get(drB) as Session,
      'GET',
      `/teams/${teamId}`,
    );
    const gen1 = team.keys[0];
    if (!gen1) throw new Error('no team key');
    const kept = await unwrapTeamKey({
      message: envelope.message,
      myKey: (keys.get(drB) as GeneratedUserKey).privateKey,
      context: {
        teamId,
        gen: 1,
        memberId: (await api<{ id: string }>(sessions.get(drB) as Session, 'GET', '/auth/me')).id,
      },
      expected: await teamKeyRef(gen1.publicKey),
    });

    await adminPage.getByRole('button', { name: `Remove ${drB.name}` }).click();
    await adminPage.getByText('They may have kept what they already read.').waitFor();
    await adminPage
      .getByRole('button', { name: `Remove ${drB.name}` })
      .last()
      .click();
    await adminPage.locator('tr', { hasText: drB.name }).waitFor({ state: 'detached' });
    await expect(api(sessions.get(drB) as Session, 'GET', `/records/${recordId}`)).rejects.toThrow(
      /HTTP 404/,
    );
    await adminPage
      .getByText('Every record the server lists as shared with the team now uses its new key.')
      .waitFor({ timeout: 60_000 });

    const rekeyed = await api<{
      version: number;
      authorId: string;
      rekeyedBy?: string;
      recipients: { fingerprint: string }[];
      teams: { fingerprint: string; gen: number }[];
      message: string;
    }>(sessions.get(patient) as Session, 'GET', `/records/${recordId}`);
    expect(rekeyed.teams.map((t) => t.gen)).toEqual([2]);
    const opened = await openRecord({
      message: rekeyed.message,
      myKey: kept,
      expect: {
        recordId: recordId as RecordId,
        version: rekeyed.version,
        ownerId: (await api<{ id: string }>(sessions.get(patient) as Session, 'GET', '/auth/me'))
          .id as UserId,
        authorId: rekeyed.authorId as UserId,
        authorPublicKey: (keys.get(patient) as GeneratedUserKey).publicKey,
        recipients: [...rekeyed.recipients, ...rekeyed.teams].map(
          (r) => r.fingerprint as Fingerprint,
        ),
        rekeyedBy: {
          userId: rekeyed.rekeyedBy as UserId,
          publicKey: (keys.get(admin) as GeneratedUserKey).publicKey,
          check: 'current-admin',
        },
      },
    });
    expect(opened.status).toBe('not-for-me');
    // The patient still reads it as her own note, re-encrypted by the admin (opened afresh: an
    // open record is not refreshed under her eyes).
    await go(patientPage, '/records');
    await go(patientPage, `/records/${recordId}`);
    await patientPage
      .getByText('Verified: written and signed by you.')
      .waitFor({ timeout: 30_000 });
    await patientPage
      .getByTestId('rekeyed-by')
      .getByText(`Re-encrypted by ${admin.name}`, { exact: false })
      .waitFor();
    // The member's note was re-keyed with its file: a remaining member opens the file with the new key.
    const stayer = await openAs(drC);
    await go(stayer, `/records/${noteId}`);
    await stayer.getByTestId('rekeyed-by').waitFor({ timeout: 30_000 });
    expect(await downloadedFile(stayer)).toContain(FILE_TEXT);
  });

  it('when the patient stops the team writing for her on Contacts, then a member’s form says so and cannot save', async () => {
    await go(patientPage, '/contacts');
    const teams = patientPage.getByRole('region', { name: 'Care teams you let write for you' });
    await teams
      .getByText('Cardiology (St Mary’s) may write records for you.')
      .waitFor({ timeout: 30_000 });
    await teams.getByRole('button', { name: 'Stop Cardiology (St Mary’s) writing for me' }).click();
    await teams.getByText('Cardiology (St Mary’s) may not write records for you.').waitFor();
    const page = await openAs(drA);
    await go(page, '/patients');
    await page.getByRole('link', { name: patient.name }).click();
    await page.getByRole('link', { name: 'New record' }).click();
    await page.getByText(/has not let you write records for them/).waitFor({ timeout: 30_000 });
    expect(await page.getByRole('button', { name: 'Encrypt and save' }).isDisabled()).toBe(true);
  });

  // Class 12 for teams: the admin's key is the team's, and a first contact asks first as for a person.
  it('when a patient who never compared numbers with the team’s admin shares with the team, then the first click asks first and sends nothing', async () => {
    const page = await openAs(newcomer);
    const mine = await createNote(page, 'Holter monitor', 'Occasional ectopic beats overnight.');
    await page.getByRole('button', { name: 'Share…' }).click();
    await page.getByLabel('Team name').fill('Card');
    await page.getByRole('button', { name: 'Search teams' }).click();
    await page.getByRole('button', { name: 'Cardiology (St Mary’s)' }).click();
    const check = page.getByTestId('key-check');
    await check.getByText('Not checked yet').waitFor();
    const teamGrant = (method: string, url: string) =>
      method === 'POST' && new URL(url).pathname === `/api/records/${mine}/teams`;
    const since = captured.length;
    await check.getByRole('button', { name: 'Share with Cardiology' }).click();
    const question = page.getByRole('region', { name: 'First time sharing with Cardiology' });
    await question.waitFor();
    expect(await page.evaluate(() => document.activeElement?.textContent)).toBe(
      'Compare numbers first',
    );
    expect(captured.slice(since).filter((r) => teamGrant(r.method, r.url))).toEqual([]);
    // The explicit second choice then shares.
    const grant = page.waitForRequest((r) => teamGrant(r.method(), r.url()), { timeout: 60_000 });
    await question.getByRole('button', { name: 'Share without comparing' }).click();
    expect((await (await grant).response())?.status()).toBe(201);
  });

  it('when every request the browsers sent is searched, then none holds a password, the record’s text or an unprotected private key', () => {
    const secrets = [admin, drA, drB, drC, drD, patient, newcomer].map((a) => a.password);
    expect(leaksOf(captured, [...secrets, TITLE, NOTE, 'EF 55%', FILE_TEXT])).toEqual([]);
    for (const k of privateKeysIn(captured))
      expect(k.protectedPackets).toBeGreaterThanOrEqual(k.secretPackets);
  });
});
