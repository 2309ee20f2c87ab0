import { startTestServer } from '@medseal/server/testing';
import { newDevice, screenshots, type CapturedRequest } from './support/browser';
import { browserSuite } from './support/suite';
import {
  confirmRecoveryKit,
  createNote,
  go,
  loginAs,
  register,
  WEB_DIST,
  type Account,
} from './support/app';

const patient: Account = {
  role: 'patient',
  name: 'Eva Patient',
  email: 'eva@example.org',
  password: 'Saffron-Pebble-Orbit-33',
};
const NEW_PASSWORD = 'Lagoon-Thistle-Beacon-72';
const RECOVERED_PASSWORD = 'Cobalt-Meadow-Lantern-19';

const suite = browserSuite();
const captured: CapturedRequest[] = [];

describe('account settings and recovery in real Chromium', () => {
  let words: string[] = [];
  let noteId = '';

  it('when the password is changed, then the old one stops working and the new one unlocks the same records', async () => {
    const { page } = await newDevice(suite.browser, captured);
    words = await register(page, suite.server.baseUrl, patient);
    noteId = await createNote(page, 'Dermatology visit', 'Mole on left shoulder checked, benign');
    await go(page, '/settings');
    await page.getByLabel('Current password').fill(patient.password);
    await page.getByLabel('New password', { exact: true }).fill(NEW_PASSWORD);
    await page.getByLabel('Repeat new password').fill(NEW_PASSWORD);
    await page.getByRole('button', { name: 'Change password' }).click();
    await page.getByText('Password changed.').waitFor({ timeout: 60_000 });
    await page.getByRole('button', { name: 'Log out' }).click();

    await page.goto(`${suite.server.baseUrl}/login`);
    await page.getByLabel('Email').fill(patient.email);
    await page.getByLabel('Password', { exact: true }).fill(patient.password);
    await page.getByRole('button', { name: 'Log in' }).click();
    await page
      .getByText('That email and password do not match an account.')
      .waitFor({ timeout: 60_000 });

    await loginAs(page, suite.server.baseUrl, { ...patient, password: NEW_PASSWORD });
    await page
      .getByRole('region', { name: 'Records' })
      .getByText('Dermatology visit')
      .waitFor({ timeout: 30_000 });
  });

  it('when the password is lost, then the recovery words and a new password restore access to the same records', async () => {
    const { page } = await newDevice(suite.browser, captured);
    await page.goto(`${suite.server.baseUrl}/login`);
    await page.getByRole('link', { name: 'Forgot your password?' }).click();
    await page.getByLabel('Email').fill(patient.email);
    await page.getByLabel('Recovery words').fill(words.join(' '));
    await page.getByLabel('New password', { exact: true }).fill(RECOVERED_PASSWORD);
    await page.getByLabel('Repeat new password').fill(RECOVERED_PASSWORD);
    await screenshots(page, 'recover');
    await page.getByRole('button', { name: 'Recover account' }).click();
    // A new kit replaces the one just used: its words are new, the old ones stop working (issue 15, finding 9).
    await page
      .getByText('The recovery words you just used no longer work.')
      .waitFor({ timeout: 60_000 });
    const newWords = await confirmRecoveryKit(page);
    expect(newWords).not.toEqual(words);
    await go(page, `/records/${noteId}`);
    await page.getByText('Mole on left shoulder checked, benign').waitFor({ timeout: 30_000 });
  });

  it('when a record is deleted after the confirmation, then it is gone with its versions and the access log keeps that it happened', async () => {
    const { page } = await newDevice(suite.browser, captured);
    await loginAs(page, suite.server.baseUrl, { ...patient, password: RECOVERED_PASSWORD });
    await go(page, `/records/${noteId}`);
    await page.getByRole('button', { name: 'Delete this record…' }).click();
    await page.getByText('This cannot be undone.').waitFor();
    await screenshots(page, 'delete-confirm');
    await page.getByRole('button', { name: 'Yes, delete permanently' }).click();
    await page.getByRole('heading', { name: 'Records', level: 1 }).waitFor({ timeout: 30_000 });
    await page.getByRole('heading', { name: 'Welcome to Medseal' }).waitFor({ timeout: 30_000 });
    expect(
      await suite.server.connection.collection('records').countDocuments({ _id: noteId as never }),
    ).toBe(0);
    expect(
      await suite.server.connection
        .collection('record_versions')
        .countDocuments({ recordId: noteId }),
    ).toBe(0);
    expect(
      await suite.server.connection
        .collection('audit_events')
        .countDocuments({ recordId: noteId, action: 'delete' }),
    ).toBe(1);
  });

  it('when the server says this client version is no longer supported, then a banner asks to reload', async () => {
    const strict = await startTestServer({
      webDist: WEB_DIST,
      settings: { minClientVersion: '99.0.0' },
    });
    try {
      const { page } = await newDevice(suite.browser, captured);
      await page.goto(`${strict.baseUrl}/login`);
      await page.getByText('A newer version of Medseal is available.').waitFor({ timeout: 30_000 });
      await screenshots(page, 'outdated-client');
    } finally {
      await strict.close();
    }
  });
});
