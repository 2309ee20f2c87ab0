// Issue 14: comparing numbers (the verification screen, the QR code scanned with a camera or
// from a photo), "They don't match", sharing several records at once, the confirmations in
// dialogs, and plain words on the contacts and sharing screens — in real Chromium.
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import QRCode from 'qrcode';
import type { Browser, Page } from 'playwright-core';
import * as pgp from '@medseal/crypto';
import type { RecordId, UserId } from '@medseal/crypto';
import { launchBrowser, newDevice, screenshots, type CapturedRequest } from './support/browser';
import { fakeCameraArgs, writeQrY4m } from './support/camera';
import { browserSuite } from './support/suite';
import { go, JARGON, loginAs, type Account } from './support/app';
import { api, registerUser } from './support/api';
import { settled } from './support/victim';

const patient: Account = {
  role: 'patient',
  name: 'Vera Patient',
  email: 'vera@example.org',
  password: 'Lantern-Meadow-Copper-52',
};
const doctor: Account = {
  role: 'doctor',
  name: 'Dr Ines Ortiz',
  email: 'ines@clinic.example',
  password: 'Saffron-Glacier-Pilot-71',
};
const stranger: Account = {
  role: 'doctor',
  name: 'Dr Sam Stone',
  email: 'sam@clinic.example',
  password: 'Orchid-Falcon-Timber-36',
};

const suite = browserSuite();
const captured: CapturedRequest[] = [];
const work = mkdtempSync(join(tmpdir(), 'medseal-verify-'));
let camera: Browser;
let page: Page;
let users: Record<'patient' | 'doctor' | 'stranger', Awaited<ReturnType<typeof registerUser>>>;
const ids: Record<string, string> = {};

function recordId(): string {
  return Buffer.from(pgp.createSaltSeed(), 'base64url').subarray(0, 16).toString('base64url');
}

/** A note of the patient's own, sealed in Node as the app does it, to her and `readers`. */
async function seedNote(title: string, readers: (typeof users)['doctor'][] = []): Promise<string> {
  const id = recordId();
  const me = users.patient;
  const content = {
    v: 1,
    kind: 'note',
    title,
    date: '2026-11-30',
    body: `${title}: notes`,
    attachments: [],
  };
  const { message } = await pgp.sealRecord({
    envelope: {
      recordId: id as RecordId,
      version: 1,
      ownerId: me.id as UserId,
      authorId: me.id as UserId,
      createdAt: new Date().toISOString(),
      content,
    },
    authorKey: me.key.privateKey,
    recipientKeys: [me, ...readers].map((u) => u.key.publicKey),
  });
  await api(me.session, 'POST', '/records', {
    recordId: id,
    ownerId: me.id,
    recipients: [me, ...readers].map((u) => ({ userId: u.id, fingerprint: u.key.fingerprint })),
    message,
  });
  return id;
}

const grantsTo = (userId: string, recordId: string) =>
  suite.server.connection.collection('grants').countDocuments({ recordId, granteeId: userId });

async function openShare(recordIdToShare: string, who: Account): Promise<void> {
  await go(page, `/records/${recordIdToShare}`);
  await page.getByRole('button', { name: 'Share…' }).click();
  await page.getByLabel('Their email address').fill(who.email);
  await page.getByRole('button', { name: 'Find' }).click();
  await page.getByTestId('key-check').waitFor({ timeout: 30_000 });
}

beforeAll(async () => {
  const [p, d, s] = await Promise.all([
    registerUser(suite.server.baseUrl, patient),
    registerUser(suite.server.baseUrl, doctor),
    registerUser(suite.server.baseUrl, stranger),
  ]);
  users = { patient: p, doctor: d, stranger: s };
  for (const title of ['Knee MRI', 'Knee physiotherapy plan', 'Knee X-ray', 'Flu vaccination'])
    ids[title] = await seedNote(title);
  // The doctor's phone shows its code for the patient to scan; the patient's camera films it.
  const y4m = join(work, 'doctor-screen.y4m');
  writeQrY4m(y4m, pgp.safetyNumberQrPayload(d.key.fingerprint, p.key.fingerprint));
  camera = await launchBrowser(fakeCameraArgs(y4m));
  ({ page } = await newDevice(camera, captured));
  await loginAs(page, suite.server.baseUrl, patient);
});

afterAll(async () => {
  await camera.close();
  rmSync(work, { recursive: true, force: true });
});

describe('comparing numbers and sharing (issue 14) in real Chromium', () => {
  it('when the patient scans the doctor’s code with the camera, then his key is “Verified” only after the code matched', async () => {
    await openShare(ids['Knee MRI'] ?? '', doctor);
    const dialog = page.getByRole('dialog', { name: 'Share this record' });
    await dialog.getByText('Not checked yet').waitFor();
    expect(await dialog.getByText('Verified', { exact: true }).count()).toBe(0);
    expect(await dialog.innerText()).not.toMatch(JARGON);
    await dialog.getByRole('button', { name: `Compare numbers with ${doctor.name}` }).click();

    const screen = page.getByTestId('key-verification');
    await screen
      .getByText(`Compare these numbers with ${doctor.name}, in person or on a call`)
      .waitFor();
    const digits = await screen
      .getByRole('group', { name: 'Safety number' })
      .getAttribute('data-safety-number');
    expect(digits).toBe(
      await pgp.safetyNumber(users.patient.key.fingerprint, users.doctor.key.fingerprint),
    );
    await screen.getByRole('img', { name: /QR code/ }).waitFor();
    // The 40-hex fingerprint is one click away, not on the main screen.
    expect(await screen.getByRole('group', { name: 'Their key fingerprint' }).isVisible()).toBe(
      false,
    );
    expect(await screen.innerText()).not.toMatch(JARGON);
    await screenshots(page, 'verify-numbers');
    await screen.getByText('Details', { exact: true }).click();
    expect(
      await screen
        .getByRole('group', { name: 'Their key fingerprint' })
        .getAttribute('data-fingerprint'),
    ).toBe(users.doctor.key.fingerprint);
    await screenshots(page, 'verify-details');

    await screen.getByRole('button', { name: 'Scan their code' }).click();
    // The fake camera films the doctor's code; the decoder reads it and it matches: verified.
    await dialog
      .getByTestId('key-check')
      .getByText('Verified', { exact: true })
      .waitFor({ timeout: 60_000 });
    expect(await page.getByTestId('key-verification').count()).toBe(0);
    await screenshots(page, 'verify-verified');
    await dialog.getByRole('button', { name: `Share with ${doctor.name}` }).click();
    await page
      .getByRole('list', { name: 'Readers' })
      .getByText(doctor.name)
      .waitFor({ timeout: 30_000 });
    expect(await grantsTo(users.doctor.id, ids['Knee MRI'] ?? '')).toBe(1);
  });

  it('when the numbers do not match (said or scanned), then nothing is shared, sharing stays blocked on every device until a comparison matches, and the warning says what to do', async () => {
    await openShare(ids['Knee MRI'] ?? '', stranger);
    const dialog = page.getByRole('dialog', { name: 'Share this record' });
    await dialog.getByRole('button', { name: `Compare numbers with ${stranger.name}` }).click();
    await dialog.getByRole('button', { name: 'They don’t match' }).click();
    const warning = page.getByTestId('key-mismatch');
    await warning.getByText(`Do not share with ${stranger.name} for now.`).waitFor();
    await warning.getByText('What to do').waitFor();
    await warning
      .getByText(
        `sharing with ${stranger.name} stays blocked until you compare the numbers again and they match`,
      )
      .waitFor();
    expect(await dialog.getByRole('button', { name: /^Share/ }).count()).toBe(0);
    await screenshots(page, 'verify-mismatch');
    await warning.getByRole('button', { name: 'Close' }).click();
    await dialog.waitFor({ state: 'hidden' });

    // Remembered: the person is marked, and sharing is blocked with a plain reason.
    await openShare(ids['Knee MRI'] ?? '', stranger);
    const check = dialog.getByTestId('key-check');
    await check.getByText('Numbers did not match', { exact: true }).waitFor();
    await check.getByText('Numbers did not match. Sharing is blocked.').waitFor();
    await check
      .getByText(/When you compared numbers with Dr Sam Stone, they were not the same/)
      .waitFor();
    expect(await dialog.getByLabel(`${stranger.name} may also write records for you`).count()).toBe(
      0,
    );
    expect(
      await check.getByRole('button', { name: `Share with ${stranger.name}` }).isDisabled(),
    ).toBe(true);
    await screenshots(page, 'verify-mismatch-remembered');

    // The camera films the code of (patient, Dr Ortiz): for Dr Stone that is another pair's code.
    await dialog.getByRole('button', { name: `Compare numbers with ${stranger.name}` }).click();
    await page
      .getByTestId('key-verification')
      .getByText('Last time you compared, the numbers did not match.')
      .waitFor();
    await dialog.getByRole('button', { name: 'Scan their code' }).click();
    await warning
      .getByText(`The code on ${stranger.name}’s screen is not the one Medseal computed here.`)
      .waitFor({ timeout: 60_000 });
    await warning.getByRole('button', { name: 'Close' }).click();
    expect(await grantsTo(users.stranger.id, ids['Knee MRI'] ?? '')).toBe(0);
    expect(
      captured.filter(
        (r) =>
          r.method === 'POST' &&
          r.url.includes('/grants') &&
          r.body?.toString().includes(users.stranger.id),
      ),
    ).toEqual([]);

    // Nor is anything new encrypted to that key where he reads already (a note that named him
    // before she compared): her edit is refused with the reason, and nothing is sent.
    const readByHim = await seedNote('Blood pressure log', [users.stranger]);
    const beforeEdit = captured.length;
    await go(page, `/records/${readByHim}/edit`);
    await page.getByLabel('Notes').fill('New reading: 150/95');
    await page.getByRole('button', { name: /^Encrypt and save/ }).click();
    await page
      .getByRole('alert')
      .filter({ hasText: `When you compared numbers with ${stranger.name}, they did not match` })
      .waitFor({ timeout: 60_000 });
    expect(
      captured
        .slice(beforeEdit)
        .filter((r) => r.method !== 'GET' && r.url.includes(`/api/records/${readByHim}`)),
    ).toEqual([]);
    // Gone again, so the later tests see her four notes.
    await api(users.patient.session, 'DELETE', `/records/${readByHim}`);

    // In the signed account state: another device of hers shows the same, until the numbers match.
    const { page: other } = await newDevice(suite.browser, captured);
    await loginAs(other, suite.server.baseUrl, patient);
    await go(other, `/records/${ids['Knee MRI'] ?? ''}`);
    await other.getByRole('button', { name: 'Share…' }).click();
    await other.getByLabel('Their email address').fill(stranger.email);
    await other.getByRole('button', { name: 'Find' }).click();
    const otherCheck = other.getByTestId('key-check');
    await otherCheck
      .getByText('Numbers did not match', { exact: true })
      .waitFor({ timeout: 30_000 });
    expect(
      await otherCheck.getByRole('button', { name: `Share with ${stranger.name}` }).isDisabled(),
    ).toBe(true);
    await otherCheck.getByRole('button', { name: `Compare numbers with ${stranger.name}` }).click();
    await other.getByRole('button', { name: 'They match' }).click();
    await otherCheck.getByText('Verified', { exact: true }).waitFor({ timeout: 30_000 });
    expect(
      await otherCheck.getByRole('button', { name: `Share with ${stranger.name}` }).isDisabled(),
    ).toBe(false);
    expect(await otherCheck.getByText('Numbers did not match', { exact: true }).count()).toBe(0);
    await other.context().close();
  });

  it('when the doctor has no camera, then a photo of his own code verifies nothing, and a photo of the patient’s code verifies her as the author of what she shared', async () => {
    const { page: doctorPage } = await newDevice(suite.browser, captured);
    await loginAs(doctorPage, suite.server.baseUrl, doctor);
    await go(doctorPage, `/records/${ids['Knee MRI'] ?? ''}`);
    await doctorPage
      .getByText(`Signed by ${patient.name} — a key you have not verified.`)
      .waitFor({ timeout: 30_000 });
    await doctorPage.getByRole('button', { name: `Compare numbers with ${patient.name}` }).click();
    const screen = doctorPage.getByTestId('key-verification');
    await screen.getByRole('button', { name: 'Scan their code' }).click();
    await screen
      .getByText(/No camera was found|may not use the camera|could not be started/)
      .waitFor({ timeout: 30_000 });
    const photoOf = (shownBy: typeof users.doctor, scannedBy: typeof users.doctor) =>
      QRCode.toBuffer(
        pgp.safetyNumberQrPayload(shownBy.key.fingerprint, scannedBy.key.fingerprint),
        {
          width: 600,
          margin: 4,
        },
      );
    // His own screen, photographed (or shown back to him): the same two keys, but it proves nothing.
    await screen.getByLabel('Use a photo instead').setInputFiles({
      name: 'own-screen.png',
      mimeType: 'image/png',
      buffer: await photoOf(users.doctor, users.patient),
    });
    await screen
      .getByText('That is the code on your own screen, so it proves nothing.', { exact: false })
      .waitFor({ timeout: 30_000 });
    expect(
      await doctorPage.getByText(`Verified: written and signed by ${patient.name}.`).count(),
    ).toBe(0);
    await screen.getByRole('button', { name: 'Scan their code' }).click();
    await screen
      .getByText(/No camera was found|may not use the camera|could not be started/)
      .waitFor({ timeout: 30_000 });
    await screen.getByLabel('Use a photo instead').setInputFiles({
      name: 'screen.png',
      mimeType: 'image/png',
      buffer: await photoOf(users.patient, users.doctor),
    });
    await doctorPage
      .getByText(`Verified: written and signed by ${patient.name}.`)
      .waitFor({ timeout: 60_000 });
    await doctorPage.context().close();
  });

  it('when the patient selects everything about her knee, then one key check and one progress bar share them all (a busy-database answer is tried again)', async () => {
    await go(page, '/records');
    await page.getByLabel('Search records').fill('knee');
    await page.getByText('3 of 4 records').waitFor({ timeout: 30_000 });
    await page.getByLabel('Select all 3 shown').check();
    const bar = page.getByRole('region', { name: 'Selected records' });
    await bar.getByText('3 records selected').waitFor();
    await screenshots(page, 'share-many-selected');
    await bar.getByRole('button', { name: 'Share these 3…' }).click();
    const dialog = page.getByRole('dialog', { name: 'Share 3 records' });
    await dialog.getByLabel('Their email address').fill(doctor.email);
    await dialog.getByRole('button', { name: 'Find' }).click();
    await dialog
      .getByTestId('key-check')
      .getByText('Verified', { exact: true })
      .waitFor({ timeout: 30_000 });
    // The first batch's answer is "the database is busy, try again": the app tries those records again.
    let refused = 0;
    await page.route(/\/api\/grants$/, async (route) => {
      if (route.request().method() !== 'POST' || refused > 0) return route.fallback();
      refused += 1;
      return route.fulfill({
        status: 503,
        contentType: 'application/json',
        body: JSON.stringify({
          error: {
            code: 'database-unavailable',
            message: 'The database is not reachable; try again shortly.',
          },
        }),
      });
    });
    await dialog.getByRole('button', { name: `Share with ${doctor.name}` }).click();
    await dialog.getByText(`Shared 2 records with ${doctor.name}.`).waitFor({ timeout: 60_000 });
    expect(refused).toBe(1);
    await page.unroute(/\/api\/grants$/);
    await dialog.getByText(`${doctor.name} could already read 1 record.`).waitFor();
    await screenshots(page, 'share-many-done');
    await dialog.getByRole('button', { name: 'Done' }).click();
    await bar.waitFor({ state: 'detached' });
    for (const title of ['Knee MRI', 'Knee physiotherapy plan', 'Knee X-ray'])
      expect(await grantsTo(users.doctor.id, ids[title] ?? '')).toBe(1);
    expect(await grantsTo(users.doctor.id, ids['Flu vaccination'] ?? '')).toBe(0);
  });

  it('when the patient revokes or deletes, then each asks in a modal dialog that Escape closes, focus returns, and confirming does it', async () => {
    await go(page, `/records/${ids['Knee X-ray'] ?? ''}`);
    const reader = page
      .getByRole('list', { name: 'Readers' })
      .getByRole('listitem')
      .filter({ hasText: doctor.name });
    const revokeButton = reader.getByRole('button', { name: 'Revoke…' });
    await revokeButton.click();
    const revokeDialog = page.getByRole('dialog', { name: `Stop sharing with ${doctor.name}?` });
    expect(await revokeDialog.getAttribute('aria-modal')).toBe('true');
    // The safe choice has the focus: Enter cancels.
    expect(
      await revokeDialog
        .getByRole('button', { name: 'Cancel' })
        .evaluate((b) => b === document.activeElement),
    ).toBe(true);
    await page.keyboard.press('Escape');
    await revokeDialog.waitFor({ state: 'hidden' });
    expect(await revokeButton.evaluate((b) => b === document.activeElement)).toBe(true);
    await revokeButton.click();
    await screenshots(page, 'revoke-dialog');
    await revokeDialog.getByRole('button', { name: `Revoke access for ${doctor.name}` }).click();
    await reader.waitFor({ state: 'detached', timeout: 60_000 });
    // The button that opened the dialog left with the reader: focus goes to the readers' heading, a status line says it.
    await page
      .getByRole('status')
      .filter({ hasText: `${doctor.name} can no longer open this record.` })
      .waitFor();
    await page.waitForFunction(
      () => document.activeElement?.textContent === 'Who can read this record',
      undefined,
      { timeout: 10_000 },
    );
    await settled(page);

    await go(page, `/records/${ids['Flu vaccination'] ?? ''}`);
    await page.getByRole('button', { name: 'Delete this record…' }).click();
    const deleteDialog = page.getByRole('dialog', { name: 'Delete this record for good?' });
    expect(await deleteDialog.getAttribute('aria-modal')).toBe('true');
    await screenshots(page, 'delete-dialog');
    await deleteDialog.getByRole('button', { name: 'Yes, delete permanently' }).click();
    await page.waitForURL((url) => url.pathname === '/records', { timeout: 30_000 });
    expect(
      await suite.server.connection
        .collection('records')
        .countDocuments({ _id: ids['Flu vaccination'] as never }),
    ).toBe(0);
  });

  it('when the patient looks at her contacts, then they are in plain words with the numbers one click away', async () => {
    await go(page, '/contacts');
    const card = page.getByTestId('key-check').filter({ hasText: doctor.name });
    await card.getByText('Verified', { exact: true }).waitFor({ timeout: 30_000 });
    // Dr Stone's numbers did not match here, then matched on her other device: the signed state says so.
    await page
      .getByTestId('key-check')
      .filter({ hasText: stranger.name })
      .getByText('Verified', { exact: true })
      .waitFor({ timeout: 30_000 });
    expect(await page.locator('main').innerText()).not.toMatch(JARGON);
    await screenshots(page, 'contacts-plain');
    await card.getByRole('button', { name: 'Compare numbers again' }).click();
    await page
      .getByRole('dialog', { name: `Compare numbers with ${doctor.name}` })
      .getByRole('group', { name: 'Safety number' })
      .waitFor();
  });
});
