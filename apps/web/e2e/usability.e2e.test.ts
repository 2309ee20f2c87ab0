// Issue 14's broken items, as a new patient and a new doctor meet them in real Chromium.
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Page } from 'playwright-core';
import { ARTIFACTS, newDevice, screenshots, type CapturedRequest } from './support/browser';
import { browserSuite } from './support/suite';
import { confirmRecoveryKit, createNote, go, loginAs, register, type Account } from './support/app';
import { registerUser } from './support/api';
import { settled, shareWith } from './support/victim';

const patient: Account = {
  role: 'patient',
  name: 'Uma Patient',
  email: 'uma@example.org',
  password: 'Juniper-Falcon-Harbor-47',
};
const doctor = {
  role: 'doctor' as const,
  name: 'Dr Omar Reyes',
  email: 'omar@clinic.example',
  password: 'Quartz-Willow-Ember-63',
};
const RECOVERED_PASSWORD = 'Marble-Heron-Canyon-28';

const suite = browserSuite();
const captured: CapturedRequest[] = [];
let patientPage: Page;
let kitText = '';
let sharedId = '';
const work = mkdtempSync(join(tmpdir(), 'medseal-usability-'));
afterAll(() => rmSync(work, { recursive: true, force: true }));

describe('what broke for new patients and doctors (issue 14) in real Chromium', () => {
  beforeAll(async () => {
    await registerUser(suite.server.baseUrl, doctor);
    ({ page: patientPage } = await newDevice(suite.browser, captured));
    await register(patientPage, suite.server.baseUrl, patient, async () => {
      const [download] = await Promise.all([
        patientPage.waitForEvent('download'),
        patientPage.getByRole('button', { name: 'Download recovery kit' }).click(),
      ]);
      kitText = readFileSync(await download.path(), 'utf8');
    });
    sharedId = await createNote(patientPage, 'Knee MRI', 'Small meniscus tear, physio first');
  });

  it('when a doctor opens a record a patient shared with him, then he is offered no Edit (only what he may do)', async () => {
    expect(await shareWith(patientPage, sharedId, doctor)).toBe('shared');
    const { page } = await newDevice(suite.browser, captured);
    await loginAs(page, suite.server.baseUrl, doctor);
    await go(page, `/records/${sharedId}`);
    await page.getByText('Small meniscus tear, physio first').waitFor({ timeout: 60_000 });
    await settled(page);
    expect(await page.getByRole('link', { name: 'Edit' }).count()).toBe(0);
    expect(await page.getByRole('button', { name: /^Share/ }).count()).toBe(0);
    expect(await page.getByRole('button', { name: /^Revoke/ }).count()).toBe(0);
    // The address typed by hand says so instead of a form whose save always fails.
    await go(page, `/records/${sharedId}/edit`);
    await page
      .getByText('You can read this record but not change it', { exact: false })
      .waitFor({ timeout: 30_000 });
    expect(await page.getByRole('button', { name: /^Encrypt and save/ }).count()).toBe(0);
    await page.context().close();
  });

  it('when the session ends while a new record is being written, then a log-in dialog in place keeps the draft and saving works after it', async () => {
    await go(patientPage, '/records/new');
    await patientPage.getByLabel('Title').fill('Physio plan');
    await patientPage.getByLabel('Notes').fill('Twice a week, six weeks');
    // The server no longer knows this browser's session (expired or ended elsewhere).
    await patientPage.context().clearCookies();
    await patientPage.getByRole('button', { name: 'Encrypt and save' }).click();
    const dialog = patientPage.getByRole('dialog', { name: 'Please log in again' });
    await dialog.waitFor({ timeout: 60_000 });
    expect(
      await patientPage.evaluate(() => document.activeElement?.closest('dialog') !== null),
    ).toBe(true);
    await patientPage.getByRole('banner').getByText('Session ended').waitFor();
    await screenshots(patientPage, 'session-ended-dialog');
    await dialog.getByLabel('Password').fill(patient.password);
    await dialog.getByRole('button', { name: 'Log in and continue' }).click();
    await dialog.waitFor({ state: 'detached', timeout: 60_000 });
    await patientPage.getByRole('banner').getByText('Unlocked').waitFor();
    expect(await patientPage.getByLabel('Title').inputValue()).toBe('Physio plan');
    expect(await patientPage.getByLabel('Notes').inputValue()).toBe('Twice a week, six weeks');
    await patientPage.getByRole('button', { name: 'Encrypt and save' }).click();
    await patientPage
      .getByText('Verified: written and signed by you.')
      .waitFor({ timeout: 60_000 });
    await patientPage.getByText('Twice a week, six weeks').waitFor();
  });

  it('when the network fails mid-upload, then saving again finishes the same record with its file (no second record without it)', async () => {
    const owner = await suite.server.connection
      .collection('users')
      .findOne({ email: patient.email });
    const records = () =>
      suite.server.connection.collection('records').countDocuments({ ownerId: String(owner?._id) });
    const before = await records();
    const pdf = join(work, 'physio-referral.pdf');
    writeFileSync(pdf, '%PDF-1.4\n% physio referral\n%%EOF\n');
    await go(patientPage, '/records/new');
    await patientPage.getByLabel('Title').fill('Physio referral');
    await patientPage.getByLabel('Notes').fill('Referral letter attached');
    await patientPage.getByLabel(/Add PDF or image files/).setInputFiles(pdf);
    await patientPage.route(
      '**/api/records/*/attachments',
      (route) => route.abort('connectionreset'),
      { times: 1 },
    );
    await patientPage.getByRole('button', { name: 'Encrypt and save' }).click();
    await patientPage
      .getByRole('alert')
      .getByText('The server could not be reached.')
      .waitFor({ timeout: 60_000 });
    await patientPage.getByRole('button', { name: 'Encrypt and save' }).click();
    await patientPage
      .getByText('Verified: written and signed by you.')
      .waitFor({ timeout: 60_000 });
    await patientPage.getByRole('button', { name: 'Download physio-referral.pdf' }).waitFor();
    expect(await records()).toBe(before + 1);
  });

  it('when the answer to creating a record is lost, then saving again sends the same request and gets the one stored record', async () => {
    const owner = await suite.server.connection
      .collection('users')
      .findOne({ email: patient.email });
    const records = () =>
      suite.server.connection.collection('records').countDocuments({ ownerId: String(owner?._id) });
    const before = await records();
    await go(patientPage, '/records/new');
    await patientPage.getByLabel('Title').fill('Ice and rest');
    await patientPage.getByLabel('Notes').fill('Ice 20 minutes, three times a day');
    // The server stores the record, then the connection drops before its answer arrives.
    await patientPage.route(
      (url) => url.pathname === '/api/records',
      async (route) => {
        if (route.request().method() !== 'POST') return route.fallback();
        await route.fetch();
        await route.abort('connectionreset');
      },
      { times: 1 },
    );
    await patientPage.getByRole('button', { name: 'Encrypt and save' }).click();
    await patientPage
      .getByRole('alert')
      .getByText('The server could not be reached.')
      .waitFor({ timeout: 60_000 });
    expect(await records()).toBe(before + 1);
    await patientPage.getByRole('button', { name: 'Encrypt and save' }).click();
    await patientPage
      .getByText('Verified: written and signed by you.')
      .waitFor({ timeout: 60_000 });
    await patientPage.getByText('Ice 20 minutes, three times a day').waitFor();
    expect(await records()).toBe(before + 1);
  });

  it('when a patient shares a record while the doctor’s list is open, then it appears there without a reload, marked new', async () => {
    const { page, context } = await newDevice(suite.browser, captured);
    await loginAs(page, suite.server.baseUrl, doctor);
    await go(page, '/records');
    const list = page.getByRole('region', { name: 'Records' });
    await list.getByText('Knee MRI').waitFor({ timeout: 60_000 });
    const id = await createNote(patientPage, 'Crutches advice', 'Two weeks, then one crutch');
    expect(await shareWith(patientPage, id, doctor)).toBe('shared');
    const shared = Date.now();
    const row = list.locator(`[data-record-id="${id}"]`);
    await row.getByText('Crutches advice').waitFor({ timeout: 30_000 });
    await row.getByText('New', { exact: true }).waitFor();
    // Issue 14: in the open tab, marked new, ≤ 2 s after it was shared (bench: chromium_new_record_in_open_list_marked_new).
    const after = Date.now() - shared;
    console.info(`shared record in the open list, marked new, after ${after} ms`);
    expect(after).toBeLessThanOrEqual(2000);
    expect(await list.locator('[data-record-id]').getByText('New', { exact: true }).count()).toBe(
      1,
    );
    await screenshots(page, 'records-live-new');
    await row.click();
    await page.getByText('Two weeks, then one crutch').waitFor({ timeout: 60_000 });
    await go(page, '/records');
    await row.getByText('Crutches advice').waitFor({ timeout: 30_000 });
    expect(await row.getByText('New', { exact: true }).count()).toBe(0);
    await context.close();
  });

  it('when the patient opens the access log, then it is grouped by person and day, "saw it in a list" apart from "opened", and fits 390 px', async () => {
    await go(patientPage, '/access-log');
    const group = patientPage.getByRole('rowgroup', { name: new RegExp(`^${doctor.name}, `) });
    await group.first().waitFor({ timeout: 60_000 });
    expect(await group.count()).toBe(1);
    await group
      .locator('tr[data-action="read"]', { hasText: 'Crutches advice' })
      .getByText('opened')
      .waitFor();
    await group
      .locator('tr[data-action="list"]', { hasText: 'Crutches advice' })
      .getByText('saw it in a list')
      .waitFor();
    // His list was sent to him several times, but a list read is recorded once per 10 minutes
    // per reader and record (docs/decisions.md, issue 11): one row.
    await group
      .locator('tr[data-action="list"]', { hasText: 'Knee MRI' })
      .getByText('saw it in a list')
      .waitFor();
    await patientPage.setViewportSize({ width: 390, height: 844 });
    expect(
      await patientPage.evaluate(() => document.documentElement.scrollWidth),
    ).toBeLessThanOrEqual(390);
    await patientPage.setViewportSize({ width: 1280, height: 900 });
    await screenshots(patientPage, 'access-log-grouped');
  });

  it('when a record is printed, then only the record and its verification line are on paper; in dark mode the page is dark', async () => {
    await go(patientPage, `/records/${sharedId}`);
    await patientPage.getByText('Small meniscus tear, physio first').waitFor({ timeout: 60_000 });
    await patientPage.emulateMedia({ media: 'print' });
    try {
      expect(await patientPage.getByRole('banner').isVisible()).toBe(false);
      expect(
        await patientPage.getByRole('button', { name: 'Print or save as PDF' }).isVisible(),
      ).toBe(false);
      expect(
        await patientPage.getByRole('heading', { name: 'Who can read this record' }).isVisible(),
      ).toBe(false);
      expect(await patientPage.getByText('Verified: written and signed by you.').isVisible()).toBe(
        true,
      );
      expect(await patientPage.getByText('Small meniscus tear, physio first').isVisible()).toBe(
        true,
      );
      await patientPage.pdf({ path: `${ARTIFACTS}/record-print.pdf` });
    } finally {
      await patientPage.emulateMedia({ media: null });
    }
    await patientPage.emulateMedia({ colorScheme: 'dark' });
    try {
      const background = await patientPage.evaluate(
        () => getComputedStyle(document.documentElement).backgroundColor,
      );
      expect(background).toBe('rgb(17, 20, 24)');
      await screenshots(patientPage, 'record-dark');
    } finally {
      await patientPage.emulateMedia({ colorScheme: 'light' });
    }
  });

  it('when the recovery kit is pasted exactly as downloaded, then it is accepted; a wrong kit gets words, not codes; the new password is asked twice', async () => {
    expect(kitText).toMatch(/^\s*1\. [a-z]+$/m);
    const { page, context } = await newDevice(suite.browser, captured);
    await page.goto(`${suite.server.baseUrl}/recover`);
    await page.getByLabel('Email').fill(patient.email);
    const wordsField = page.getByLabel('Recovery words');
    const newPassword = page.getByLabel('New password', { exact: true });
    const repeat = page.getByLabel('Repeat new password');
    const recover = page.getByRole('button', { name: 'Recover account' });
    const problem = page.getByRole('alert');

    // A kit with its eleventh line lost: said in words, no internal code.
    await wordsField.fill(kitText.replace(/^\s*11\. .*$/m, ''));
    await newPassword.fill(RECOVERED_PASSWORD);
    await repeat.fill(RECOVERED_PASSWORD);
    await recover.click();
    await problem
      .getByText('Your recovery kit has 12 words; we found 11.')
      .waitFor({ timeout: 60_000 });
    expect(await problem.textContent()).not.toMatch(/bad-recovery-words|word-count|\(\w+-\w+\)/);

    // The two new passwords differ: nothing is sent.
    await wordsField.fill(kitText);
    await repeat.fill(`${RECOVERED_PASSWORD}x`);
    await recover.click();
    await problem.getByText('The new passwords are different.').waitFor();

    await repeat.fill(RECOVERED_PASSWORD);
    await screenshots(page, 'recover-pasted-kit');
    await recover.click();
    // The used kit is replaced by a new one (issue 15, finding 9).
    await confirmRecoveryKit(page);
    await go(page, `/records/${sharedId}`);
    await page.getByText('Small meniscus tear, physio first').waitFor({ timeout: 60_000 });
    await context.close();
  });
});
