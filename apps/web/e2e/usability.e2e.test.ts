// Issue 14's broken items, as a new patient and a new doctor meet them in real Chromium.
import { readFileSync } from 'node:fs';
import type { Page } from 'playwright-core';
import { newDevice, screenshots, type CapturedRequest } from './support/browser';
import { browserSuite } from './support/suite';
import { createNote, go, loginAs, register, type Account } from './support/app';
import { registerUser } from './support/api';
import { settled, shareWith } from './support/victim';

const patient: Account = { role: 'patient', name: 'Uma Patient', email: 'uma@example.org', password: 'Juniper-Falcon-Harbor-47' };
const doctor = { role: 'doctor' as const, name: 'Dr Omar Reyes', email: 'omar@clinic.example', password: 'Quartz-Willow-Ember-63' };
const RECOVERED_PASSWORD = 'Marble-Heron-Canyon-28';

const suite = browserSuite();
const captured: CapturedRequest[] = [];
let patientPage: Page;
let kitText = '';
let sharedId = '';

describe('what broke for new patients and doctors (issue 14) in real Chromium', () => {
  beforeAll(async () => {
    await registerUser(suite.server.baseUrl, doctor);
    ({ page: patientPage } = await newDevice(suite.browser, captured));
    await register(patientPage, suite.server.baseUrl, patient, async () => {
      const [download] = await Promise.all([patientPage.waitForEvent('download'), patientPage.getByRole('button', { name: 'Download recovery kit' }).click()]);
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
    await page.getByText('Only the person this record belongs to, or who wrote it, can change it.').waitFor({ timeout: 30_000 });
    expect(await page.getByRole('button', { name: /^Encrypt and save/ }).count()).toBe(0);
    await page.context().close();
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
    await problem.getByText('Your recovery kit has 12 words; we found 11.').waitFor({ timeout: 60_000 });
    expect(await problem.textContent()).not.toMatch(/bad-recovery-words|word-count|\(\w+-\w+\)/);

    // The two new passwords differ: nothing is sent.
    await wordsField.fill(kitText);
    await repeat.fill(`${RECOVERED_PASSWORD}x`);
    await recover.click();
    await problem.getByText('The new passwords are different.').waitFor();

    await repeat.fill(RECOVERED_PASSWORD);
    await screenshots(page, 'recover-pasted-kit');
    await recover.click();
    await page.getByRole('button', { name: 'Lock now' }).waitFor({ timeout: 60_000 });
    await go(page, `/records/${sharedId}`);
    await page.getByText('Small meniscus tear, physio first').waitFor({ timeout: 60_000 });
    await context.close();
  });
});
