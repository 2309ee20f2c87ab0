import { newDevice, screenshots, type CapturedRequest } from './support/browser';
import { browserSuite } from './support/suite';
import { sealRecord, type RecordId, type UserId } from '@medseal/crypto';
import { operatorLog } from '@medseal/server/testing';
import { registerUser } from './support/api';
import { createNote, go, loginAs, register, type Account } from './support/app';
import { newRecordId, plantRecord } from './support/malicious-server';
import { downloadExport } from './support/victim';

const patient: Account = {
  role: 'patient',
  name: 'Cleo Patient',
  email: 'cleo@example.org',
  password: 'Meadow-Copper-Lantern-51',
};
const doctor: Account = {
  role: 'doctor',
  name: 'Dr Dana Fox',
  email: 'dana@clinic.example',
  password: 'Quartz-Willow-Harbor-17',
};
const mallory: Account = {
  role: 'doctor',
  name: 'Mallory Impostor',
  email: 'mallory@evil.example',
  password: 'Ember-Falcon-Glacier-64',
};

// The tests play a malicious server by editing the database behind its back; its read cache
// (which a malicious server would not need) would hide those edits for its lifetime.
const suite = browserSuite({ readCacheTtlMs: 0 });
const captured: CapturedRequest[] = [];

describe('attacks the app must notice (real Chromium, real server, database edited directly)', () => {
  it('when "stay unlocked in this tab" was chosen, then a reload keeps the keys; lock now and logout ask for the password again', async () => {
    const { page } = await newDevice(suite.browser, captured);
    await register(page, suite.server.baseUrl, patient);
    await page.reload();
    await page.getByRole('heading', { name: 'Unlock Medseal' }).waitFor();
    await screenshots(page, 'unlock');
    await page.getByRole('button', { name: 'Log out' }).click();
    await loginAs(page, suite.server.baseUrl, patient, { stayUnlocked: true });
    await page.reload();
    await page.getByRole('button', { name: 'Lock now' }).waitFor({ timeout: 30_000 });
    await page.getByRole('button', { name: 'Lock now' }).click();
    await page.getByRole('heading', { name: 'Unlock Medseal' }).waitFor();
    await page.reload();
    await page.getByRole('heading', { name: 'Unlock Medseal' }).waitFor();
    expect(await page.evaluate(() => Object.keys(sessionStorage).length)).toBe(0);
    await page.getByLabel('Password', { exact: true }).fill(patient.password);
    await page.getByRole('button', { name: 'Unlock' }).click();
    await page.getByRole('button', { name: 'Lock now' }).waitFor({ timeout: 30_000 });
    await page.getByRole('button', { name: 'Log out' }).click();
    await page.getByRole('heading', { name: 'Log in' }).waitFor();
    expect(
      await page.evaluate(
        () => Object.keys(sessionStorage).length + Object.keys(localStorage).length,
      ),
    ).toBe(0);
  });

  it('when the server serves another record’s ciphertext or altered bytes under a record id, then the app shows a tamper warning and none of the content, and the export leaves them out', async () => {
    const { page } = await newDevice(suite.browser, captured);
    await loginAs(page, suite.server.baseUrl, patient);
    const a = await createNote(page, 'Allergy: penicillin', 'Rash after amoxicillin in 2019');
    const b = await createNote(page, 'Psychiatry referral', 'Private: anxiety treatment plan');
    const c = await createNote(page, 'Vaccination record', 'Tetanus booster 2024');
    const records = suite.server.connection.collection<{ _id: string; message: string }>('records');
    const docB = await records.findOne({ _id: b });
    const docC = await records.findOne({ _id: c });
    if (!docB || !docC) throw new Error('records not stored');
    // Record swap: B's (validly signed) message served as A.
    await records.updateOne({ _id: a }, { $set: { message: docB.message } });
    // Bit-flip inside C's ciphertext (keep the armor shape).
    const lines = docC.message.split('\n');
    const i = Math.floor(lines.length / 2);
    const line = lines[i] ?? '';
    lines[i] = (line[5] === 'A' ? line.slice(0, 5) + 'B' : line.slice(0, 5) + 'A') + line.slice(6);
    await records.updateOne({ _id: c }, { $set: { message: lines.join('\n') } });

    for (const [id, hidden] of [
      [a, 'Private: anxiety treatment plan'],
      [c, 'Tetanus booster 2024'],
    ] as const) {
      await go(page, `/records/${id}`);
      await page
        .getByText('Tamper warning: this record failed verification and is not shown.')
        .waitFor({ timeout: 30_000 });
      expect(await page.getByText(hidden).count()).toBe(0);
      if (id === a) await screenshots(page, 'tamper-warning');
    }
    await go(page, '/records');
    await page
      .locator(`[data-record-id="${a}"]`)
      .getByText('Tamper warning')
      .waitFor({ timeout: 30_000 });
    await page.locator(`[data-record-id="${c}"]`).getByText('Tamper warning').waitFor();
    await page.getByRole('region', { name: 'Records' }).getByText('Psychiatry referral').waitFor();
    expect(await page.getByText('Allergy: penicillin').count()).toBe(0);
    await screenshots(page, 'records-list-tampered');

    // The export takes only what verifies: the two altered records are left out and named.
    const files = await downloadExport(page, 'export-passphrase-42');
    await page
      .getByText(
        '2 records, versions or files are not in the export (they did not pass the checks, or the server left them out); the README in the zip names them.',
      )
      .waitFor();
    const names = Object.keys(files).filter((n) => n.startsWith('records/') && !n.endsWith('/'));
    expect(
      names.map((n) => n.replace(/^records\/\d{4}-\d{2}-\d{2} /, '').replace(/\/.*$/, '')),
    ).toEqual(['Psychiatry referral']);
    const readme = new TextDecoder().decode(files['README.txt']);
    expect(readme).toContain(`record ${a}:`);
    expect(readme).toContain(`record ${c}:`);
    const html = new TextDecoder().decode(files['readable/records.html']);
    expect(html).not.toContain('Tetanus booster 2024');
    expect(html).not.toContain('Allergy: penicillin');
  });

  it('when the directory returns a different key for a pinned contact, then sharing is blocked and a record forged in their name is a tamper warning', async () => {
    const { page: doctorPage } = await newDevice(suite.browser, captured);
    await register(doctorPage, suite.server.baseUrl, doctor);
    // Mallory's key stays in Node: she writes the forged record through the API below.
    const malloryAccount = await registerUser(suite.server.baseUrl, mallory);

    const { page } = await newDevice(suite.browser, captured);
    await loginAs(page, suite.server.baseUrl, patient);
    const first = await createNote(page, 'Knee MRI summary', 'Small meniscus tear');
    await go(page, `/records/${first}`);
    await page.getByRole('button', { name: 'Share…' }).click();
    await page.getByLabel('Their email address').fill(doctor.email);
    await page.getByRole('button', { name: 'Find' }).click();
    await page.getByRole('button', { name: `Share with ${doctor.name}` }).click();
    await page.getByRole('button', { name: 'Share without comparing' }).click();
    await page
      .getByRole('list', { name: 'Readers' })
      .getByText(doctor.name, { exact: true })
      .waitFor({ timeout: 30_000 });

    // The server (or whoever controls it) now hands out Mallory's key as the doctor's.
    const users = suite.server.connection.collection<{
      email: string;
      publicKey: string;
      fingerprint: string;
    }>('users');
    const evil = await users.findOne({ email: mallory.email });
    if (!evil) throw new Error('mallory not stored');
    await users.updateOne(
      { email: doctor.email },
      { $set: { publicKey: evil.publicKey, fingerprint: evil.fingerprint } },
    );
    // It also logs that key for the doctor, so the transparency proof passes (an unlogged key is
    // refused before the pin is even asked: key-transparency.e2e); the pin must catch it, and
    // the doctor's own client would at her next login.
    const swapped = await users.findOne({ email: doctor.email });
    await operatorLog(suite.server).bind(
      { id: String((swapped as unknown as { _id: string })._id), email: doctor.email },
      evil.publicKey,
    );

    const second = await createNote(page, 'Physiotherapy plan', 'Twice weekly for six weeks');
    await go(page, `/records/${second}`);
    await page.getByRole('button', { name: 'Share…' }).click();
    await page.getByLabel('Their email address').fill(doctor.email);
    await page.getByRole('button', { name: 'Find' }).click();
    const check = page.getByTestId('key-check');
    await check
      .getByText(`${doctor.name}’s key has changed. Sharing is blocked.`)
      .waitFor({ timeout: 30_000 });
    expect(
      await check.getByRole('button', { name: `Share with ${doctor.name}` }).isDisabled(),
    ).toBe(true);
    await check.getByRole('button', { name: `Compare numbers with ${doctor.name}` }).click();
    await page.getByTestId('key-verification').getByText('Details').click();
    expect(
      await page
        .getByTestId('key-verification')
        .getByRole('group', { name: 'Their key fingerprint' })
        .getAttribute('data-fingerprint'),
    ).toBe(evil.fingerprint);
    await screenshots(page, 'key-changed');
    const grants = await suite.server.connection
      .collection('grants')
      .countDocuments({ recordId: second });
    expect(grants).toBe(0);

    await go(page, '/contacts');
    await page.getByText('Key changed').first().waitFor({ timeout: 30_000 });
    await screenshots(page, 'contacts');

    // Forged authorship: a record Mallory signed for the patient, stored naming the (pinned)
    // doctor as its author while the directory serves Mallory's key for the doctor.
    const patientDoc = await users.findOne({ email: patient.email });
    if (!patientDoc) throw new Error('patient not stored');
    const patientId = String((patientDoc as unknown as { _id: string })._id);
    // Sealed in Node: the app no longer lets a doctor write for a patient none of whose records
    // verified for them (no verified key for the patient), and the operator needs no app.
    const forgedId = newRecordId();
    const patientKey = patientDoc as unknown as { publicKey: string; fingerprint: string };
    const { message } = await sealRecord({
      envelope: {
        recordId: forgedId as RecordId,
        version: 1,
        ownerId: patientId as UserId,
        authorId: malloryAccount.id as UserId,
        createdAt: new Date().toISOString(),
        content: {
          v: 1,
          kind: 'note',
          title: 'Urgent: stop all medication',
          date: '2026-01-05',
          body: 'Forged instruction',
          attachments: [],
        },
      },
      authorKey: malloryAccount.key.privateKey,
      recipientKeys: [patientKey.publicKey, malloryAccount.key.publicKey],
    });
    const doctorDoc = await users.findOne({ email: doctor.email });
    if (!doctorDoc) throw new Error('doctor not stored');
    const doctorId = String((doctorDoc as unknown as { _id: string })._id);
    // Stored by the operator itself: the server refuses Mallory's own write (no consent, 403).
    await plantRecord(suite.server, {
      id: forgedId,
      ownerId: patientId,
      authorId: doctorId,
      recipients: [
        { userId: patientId, fingerprint: patientKey.fingerprint },
        { userId: malloryAccount.id, fingerprint: malloryAccount.key.fingerprint },
      ],
      message,
    });
    await go(page, `/records/${forgedId}`);
    await page
      .getByText('Tamper warning: this record failed verification and is not shown.')
      .waitFor({ timeout: 30_000 });
    expect(await page.getByText('Forged instruction').count()).toBe(0);
  });
});
