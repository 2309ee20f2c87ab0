import { execFileSync } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { unzipSync } from 'fflate';
import type { Page } from 'playwright-core';
import { newDevice, screenshots, type CapturedRequest } from './support/browser';
import { browserSuite } from './support/suite';
import { go, loginAs, register, type Account } from './support/app';
import { leaksOf, privateKeysIn } from './support/leaks';
import { api, registerUser } from './support/api';

const patient: Account = {
  role: 'patient',
  name: 'Ana Patient',
  email: 'ana@example.org',
  password: 'Granite-Tulip-Otter-2026',
};
const doctor: Account = {
  role: 'doctor',
  name: 'Dr Ben Grey',
  email: 'ben@clinic.example',
  password: 'Harbor-Violet-Cactus-88',
};
// A second doctor the patient also shares with; registered from Node, not through the browser.
const gp = {
  role: 'doctor' as const,
  name: 'Dr Cara Lee',
  email: 'cara@practice.example',
  password: 'Meadow-Copper-Lantern-51',
};
const LAB_TITLE = 'Blood panel November';
const LAB_BODY = 'Fasting sample, patient reports fatigue';
const NOTE_TITLE = 'Follow-up from Dr Grey';
const NOTE_BODY = 'Plan: repeat HbA1c in three months';
const FILE_TEXT = 'Medseal test attachment: cholesterol 4.2 mmol/L';
const EXPORT_PASSPHRASE = 'export-passphrase-91';

const suite = browserSuite();
const captured: CapturedRequest[] = [];
const work = mkdtempSync(join(tmpdir(), 'medseal-e2e-'));
const gnupgHome = join(work, 'gnupg');
let patientPage: Page;
let doctorPage: Page;
const recoveryWords: string[][] = [];
let labRecordId = '';
let gpUser: Awaited<ReturnType<typeof registerUser>>;

afterAll(() => {
  // gpg starts an agent for the home folder; stop it before the folder goes.
  execFileSync('gpgconf', ['--homedir', gnupgHome, '--kill', 'gpg-agent'], { stdio: 'ignore' });
  rmSync(work, { recursive: true, force: true });
});

async function fingerprintShownInSettings(page: Page): Promise<string> {
  await page
    .getByRole('navigation', { name: 'Main' })
    .getByRole('link', { name: 'Settings' })
    .click();
  // The fingerprint is a technical detail, one click away (issue 14).
  await page
    .getByRole('region', { name: 'Your key' })
    .getByText('Details', { exact: true })
    .click();
  return (
    (await page
      .getByRole('group', { name: 'Your key fingerprint' })
      .getAttribute('data-fingerprint')) ?? ''
  );
}

describe('patient and doctor in real Chromium (issue 5 end-to-end flow)', () => {
  it('when a patient registers and writes a lab result with an attachment, then it is listed with its decrypted title', async () => {
    ({ page: patientPage } = await newDevice(suite.browser, captured));
    recoveryWords.push(
      await register(patientPage, suite.server.baseUrl, patient, () =>
        screenshots(patientPage, 'register-recovery-kit'),
      ),
    );
    await screenshots(patientPage, 'records-empty');
    await patientPage.getByRole('link', { name: 'New record' }).click();
    await patientPage.getByLabel('Kind').selectOption('lab');
    await patientPage.getByLabel('Title').fill(LAB_TITLE);
    await patientPage.getByLabel('Test 1').fill('HbA1c');
    await patientPage.getByLabel('Value 1').fill('5.4');
    await patientPage.getByLabel('Unit 1').fill('%');
    await patientPage.getByLabel('Notes').fill(LAB_BODY);
    const pdf = join(work, 'lab-report.pdf');
    writeFileSync(pdf, `%PDF-1.4\n% ${FILE_TEXT}\n%%EOF\n`);
    await patientPage.getByLabel(/Add PDF or image files/).setInputFiles(pdf);
    await screenshots(patientPage, 'record-new');
    await patientPage.getByRole('button', { name: 'Encrypt and save' }).click();
    await patientPage
      .getByText('Verified: written and signed by you.')
      .waitFor({ timeout: 60_000 });
    labRecordId = new URL(patientPage.url()).pathname.split('/')[2] ?? '';
    expect(labRecordId).toMatch(/^[A-Za-z0-9_-]{22}$/);
    await screenshots(patientPage, 'record-view');
    await patientPage.getByRole('link', { name: 'Back to records' }).click();
    await patientPage
      .getByRole('region', { name: 'Records' })
      .getByText(LAB_TITLE)
      .waitFor({ timeout: 30_000 });
    await screenshots(patientPage, 'records-list');
  });

  it('when the patient checks the doctor’s fingerprint, marks it verified and shares, then the doctor on a fresh device reads the record and its file', async () => {
    const { page: doctorFirstDevice, context: doctorFirstContext } = await newDevice(
      suite.browser,
      captured,
    );
    recoveryWords.push(await register(doctorFirstDevice, suite.server.baseUrl, doctor));
    const doctorFingerprint = await fingerprintShownInSettings(doctorFirstDevice);
    await doctorFirstContext.close();

    await go(patientPage, `/records/${labRecordId}`);
    await patientPage.getByRole('button', { name: 'Share…' }).click();
    await patientPage.getByLabel('Their email address').fill(doctor.email);
    await patientPage.getByRole('button', { name: 'Find' }).click();
    const check = patientPage.getByTestId('key-check');
    await check.waitFor();
    await check.getByRole('button', { name: `Compare numbers with ${doctor.name}` }).click();
    const compare = patientPage.getByTestId('key-verification');
    // The out-of-band comparison: what the patient's browser computed equals the doctor's own key.
    await compare.getByText('Details').click();
    expect(
      await compare
        .getByRole('group', { name: 'Their key fingerprint' })
        .getAttribute('data-fingerprint'),
    ).toBe(doctorFingerprint);
    expect(
      await compare.getByRole('group', { name: 'Their key fingerprint' }).locator('span').count(),
    ).toBe(10);
    expect(
      (
        (await compare
          .getByRole('group', { name: 'Safety number' })
          .getAttribute('data-safety-number')) ?? ''
      ).length,
    ).toBe(60);
    await compare.getByRole('img', { name: /QR code/ }).waitFor();
    await screenshots(patientPage, 'share-dialog');
    await compare.getByRole('button', { name: 'They match' }).click();
    await check.getByText('Verified', { exact: true }).waitFor();
    await check.getByRole('button', { name: `Share with ${doctor.name}` }).click();
    await patientPage
      .getByRole('list', { name: 'Readers' })
      .getByText(doctor.name)
      .waitFor({ timeout: 30_000 });

    ({ page: doctorPage } = await newDevice(suite.browser, captured));
    await loginAs(doctorPage, suite.server.baseUrl, doctor);
    await doctorPage.getByRole('link', { name: 'Patients' }).click();
    await doctorPage.getByRole('link', { name: patient.name }).click();
    // The doctor never compared the patient's key: the list says so next to her name, and the
    // record says so, never "Verified" (issue 10 class 6).
    await doctorPage
      .locator(`[data-record-id="${labRecordId}"]`)
      .getByText(`by ${patient.name}, key not verified`)
      .waitFor({ timeout: 30_000 });
    await doctorPage.getByRole('region', { name: 'Records' }).getByText(LAB_TITLE).click();
    await doctorPage
      .getByText(`Signed by ${patient.name} — a key you have not verified.`)
      .waitFor({ timeout: 30_000 });
    await expect(doctorPage.getByText(LAB_BODY).isVisible()).resolves.toBe(true);
    await screenshots(doctorPage, 'doctor-record-view');
    const [download] = await Promise.all([
      doctorPage.waitForEvent('download'),
      doctorPage.getByRole('button', { name: 'Download lab-report.pdf' }).click(),
    ]);
    const saved = join(work, 'downloaded.pdf');
    await download.saveAs(saved);
    expect(readFileSync(saved, 'utf8')).toContain(FILE_TEXT);
    // Versions written before the share are not encrypted to the doctor: said plainly, not a tamper warning.
    await doctorPage.getByRole('link', { name: /^History/ }).click();
    await doctorPage
      .getByText('Written before it was shared with you')
      .first()
      .waitFor({ timeout: 30_000 });
    expect(await doctorPage.getByText(/Tamper warning/).count()).toBe(0);
  });

  it('when the patient also shares the lab result with her GP, then the GP is among its readers', async () => {
    gpUser = await registerUser(suite.server.baseUrl, gp);
    await go(patientPage, `/records/${labRecordId}`);
    await patientPage.getByRole('button', { name: 'Share…' }).click();
    await patientPage.getByLabel('Their email address').fill(gp.email);
    await patientPage.getByRole('button', { name: 'Find' }).click();
    await patientPage
      .getByTestId('key-check')
      .getByRole('button', { name: `Share with ${gp.name}` })
      .click();
    // A key nobody compared: the first click asks (issue 10 class 12); the patient chooses to share anyway.
    await patientPage.getByRole('button', { name: 'Share without comparing' }).click();
    await patientPage
      .getByRole('list', { name: 'Readers' })
      .getByText(gp.name)
      .waitFor({ timeout: 30_000 });
  });

  it('when the doctor writes a note for the patient, then it is also encrypted to the people the patient chose, and the patient sees it verified as written by the doctor', async () => {
    await doctorPage.getByRole('link', { name: 'Patients' }).click();
    await doctorPage.getByRole('link', { name: patient.name }).click();
    await doctorPage.getByRole('link', { name: 'New record' }).click();
    const alsoGp = doctorPage.getByRole('checkbox', { name: gp.name });
    await alsoGp.waitFor({ timeout: 30_000 });
    expect(await alsoGp.isChecked()).toBe(true);
    await doctorPage.getByLabel('Title').fill(NOTE_TITLE);
    await doctorPage.getByLabel('Notes').fill(NOTE_BODY);
    await screenshots(doctorPage, 'doctor-new-record');
    await doctorPage.getByRole('button', { name: 'Encrypt and save' }).click();
    await doctorPage.getByText('Verified: written and signed by you.').waitFor({ timeout: 60_000 });
    const noteId = new URL(doctorPage.url()).pathname.split('/')[2] ?? '';
    // The server stored it only after checking the message is encrypted to exactly these readers' keys.
    const asGp = await api<{ recipients: { userId: string }[] }>(
      gpUser.session,
      'GET',
      `/records/${noteId}`,
    );
    expect(asGp.recipients.map((r) => r.userId)).toContain(gpUser.id);

    await go(patientPage, '/records');
    await patientPage.getByRole('region', { name: 'Records' }).getByText(NOTE_TITLE).click();
    await patientPage
      .getByText(`Verified: written and signed by ${doctor.name}.`)
      .waitFor({ timeout: 30_000 });
    await patientPage.getByText(NOTE_BODY).waitFor();
  });

  it('when the patient opens the access log, then the doctor’s read of the lab result is there and the chain is intact', async () => {
    await patientPage
      .getByRole('navigation', { name: 'Main' })
      .getByRole('link', { name: 'Access log' })
      .click();
    const row = patientPage
      .locator('tr[data-action="read"]', { hasText: doctor.name })
      .filter({ hasText: LAB_TITLE });
    await row.first().waitFor({ timeout: 30_000 });
    await patientPage.getByText('the access log of every record is intact').waitFor();
    await screenshots(patientPage, 'access-log');
  });

  it('when the patient revokes the doctor, then the record is re-keyed and the doctor can no longer read it', async () => {
    await go(patientPage, `/records/${labRecordId}`);
    const readers = patientPage.getByRole('list', { name: 'Readers' });
    await readers.getByText(doctor.name, { exact: true }).waitFor();
    await readers
      .getByRole('listitem')
      .filter({ hasText: doctor.name })
      .getByRole('button', { name: 'Revoke…' })
      .click();
    await patientPage.getByText('they may have kept a copy').waitFor();
    await screenshots(patientPage, 'revoke-confirm');
    await patientPage.getByRole('button', { name: `Revoke access for ${doctor.name}` }).click();
    await readers
      .getByText(doctor.name, { exact: true })
      .waitFor({ state: 'detached', timeout: 30_000 });
    await patientPage.getByText('Verified: written and signed by you.').waitFor();
    const versions = await suite.server.connection
      .collection('record_versions')
      .countDocuments({ recordId: labRecordId });
    expect(versions).toBe(3); // v1, v2 (attachment), v3 (re-keyed after revoke)

    await go(doctorPage, `/records/${labRecordId}`);
    await doctorPage
      .getByText('does not exist or is no longer shared with you')
      .waitFor({ timeout: 30_000 });
    await expect(doctorPage.getByText(LAB_BODY).count()).resolves.toBe(0);

    // The history keeps every version; the first one still opens and verifies.
    await patientPage.getByRole('link', { name: /History \(version 3\)/ }).click();
    await patientPage.getByRole('button', { name: 'Open version 1' }).click();
    await patientPage
      .getByText('Verified: written and signed by you.')
      .waitFor({ timeout: 30_000 });
    await patientPage.getByText(LAB_BODY).waitFor();
    await screenshots(patientPage, 'history');
  });

  it('when the patient exports, then the README’s commands for gpg, sq, rnp and sqop, as written, open every version and check the doctor’s signature too', async () => {
    await patientPage.getByRole('link', { name: 'Settings' }).click();
    await screenshots(patientPage, 'settings');
    await patientPage.getByLabel('Export passphrase').fill(EXPORT_PASSPHRASE);
    const [download] = await Promise.all([
      patientPage.waitForEvent('download', { timeout: 120_000 }),
      patientPage.getByRole('button', { name: 'Download export' }).click(),
    ]);
    const zipPath = join(work, 'export.zip');
    await download.saveAs(zipPath);
    const files = unzipSync(new Uint8Array(readFileSync(zipPath)));
    const names = Object.keys(files).filter((n) => !n.endsWith('/'));
    const find = (pattern: RegExp) =>
      names.find((n) => pattern.test(n)) ?? `missing ${String(pattern)}`;
    // Every version of the lab result (v1, v2 with the file, v3 re-keyed), the file by its real name, the doctor's note.
    const labVersions = [1, 2, 3].map((n) =>
      find(new RegExp(`^records/\\d{4}-\\d{2}-\\d{2} ${LAB_TITLE}/version-${n}\\.asc$`)),
    );
    const labFile = find(
      new RegExp(`^records/\\d{4}-\\d{2}-\\d{2} ${LAB_TITLE}/lab-report\\.pdf\\.gpg$`),
    );
    const note = find(new RegExp(`^records/\\d{4}-\\d{2}-\\d{2} ${NOTE_TITLE}/version-1\\.asc$`));
    expect(names).toEqual(
      expect.arrayContaining([
        ...labVersions,
        labFile,
        note,
        'keys/authors.asc',
        'readable/records.html',
      ]),
    );
    const html = new TextDecoder().decode(files['readable/records.html']);
    expect(html).toContain(NOTE_BODY);
    expect(html).toContain(`Signed by ${doctor.name}`);
    expect(html).not.toMatch(/<script/i);

    const readme = new TextDecoder().decode(files['README.txt']);
    /** The commands of one tool's section, as written (comments dropped). */
    const commandsOf = (heading: string) => {
      const lines = readme.split('\n');
      const from = lines.findIndex((l) => l.startsWith(heading)) + 2;
      const to = lines.findIndex((l, i) => i >= from && l.trim() === '');
      return lines.slice(from, to).map((l) => l.replace(/\s+#.*$/, '').trim());
    };
    const exampleRecord = /--decrypt "([^"]+\.asc)"/.exec(readme)?.[1] ?? 'no example record';
    const exampleFile = /"([^"]+\.gpg)"/.exec(readme)?.[1] ?? 'no example file';
    const quoted = (path: string) => `"${path}"`;
    const unpack = (dir: string) => {
      for (const name of names) {
        mkdirSync(join(dir, name, '..'), { recursive: true });
        writeFileSync(join(dir, name), files[name] ?? new Uint8Array());
      }
    };
    mkdirSync(gnupgHome, { mode: 0o700 });
    const passphraseFile = join(work, 'passphrase.txt');
    writeFileSync(passphraseFile, `${EXPORT_PASSPHRASE}\n`);
    const tools: { heading: string; run: (command: string) => string; signed: RegExp }[] = [
      // Each tool asks for the export passphrase: gpg and rnp take it from here instead; sq
      // reads only a terminal, so it gets one (script); sqop reads the variable the README names.
      {
        heading: 'GnuPG',
        run: (c) =>
          c.replace(
            /^gpg /,
            `gpg --homedir ${gnupgHome} --batch --yes --pinentry-mode loopback --passphrase ${EXPORT_PASSPHRASE} `,
          ),
        signed: /Good signature from/,
      },
      {
        heading: 'Sequoia',
        run: (c) => `script -qec '${c}' /dev/null`,
        signed: /1 good signature/,
      },
      {
        heading: 'RNP',
        run: (c) => c.replace(/^rnp /, 'rnp --pass-fd 0 '),
        signed: /Signature\(s\) verified successfully/,
      },
      {
        heading: 'SOP',
        run: (c) => `PASSPHRASE='${EXPORT_PASSPHRASE}' ${c}`,
        signed: /\dZ [0-9A-F]{40} [0-9A-F]{40}/,
      },
    ];
    for (const tool of tools) {
      const dir = join(work, `export-${tool.heading}`);
      unpack(dir);
      // sqop writes who signed to a file; a second run must not find it there.
      const signedBy = join(dir, 'signed-by.txt');
      // The passphrase comes from a file, not a pipe: a command that never reads it (or exits
      // first) would make writing to a pipe fail with EPIPE, depending on timing.
      const sh = (command: string) =>
        execFileSync('sh', ['-c', `{ ${tool.run(command)}\n} <"${passphraseFile}" 2>&1`], {
          cwd: dir,
        }).toString('utf8') + (existsSync(signedBy) ? readFileSync(signedBy, 'utf8') : '');
      const again = (command: string) => {
        for (const f of ['signed-by.txt', 'file-signed-by.txt', 'file'])
          rmSync(join(dir, f), { force: true });
        return sh(command);
      };
      const commands = commandsOf(tool.heading);
      expect(commands.length).toBeGreaterThanOrEqual(2);
      for (const command of commands) sh(command);
      expect(readFileSync(join(dir, 'file')).toString('utf8')).toContain(FILE_TEXT);
      const decrypt = commands.find((c) => c.includes(exampleRecord)) ?? 'no decrypt command';
      for (const [record, body, signer] of [
        [labVersions[0], LAB_BODY, patient],
        [labVersions[2], LAB_TITLE, patient],
        [note, NOTE_BODY, doctor],
      ] as const) {
        const out = again(decrypt.replace(quoted(exampleRecord), quoted(record ?? '')));
        expect(out).toContain(body);
        expect(out).toMatch(tool.signed);
        if (tool.heading === 'GnuPG' || tool.heading === 'RNP') expect(out).toContain(signer.name);
      }
      // sq and sqop refuse the doctor's note when only the patient's own key may have signed it.
      if (tool.heading === 'Sequoia' || tool.heading === 'SOP')
        expect(() =>
          again(
            decrypt
              .replace(quoted(exampleRecord), quoted(note))
              .replace('keys/authors.asc', 'keys/public-key.asc'),
          ),
        ).toThrow();
      const fileCommand = (
        commands.find((c) => c.includes(exampleFile)) ?? 'no file command'
      ).replace(quoted(exampleFile), quoted(labFile));
      again(fileCommand);
      expect(readFileSync(join(dir, 'file')).toString('utf8')).toContain(FILE_TEXT);
    }

    // The readable copy opens in a browser straight from the unpacked folder.
    const copy = await patientPage.context().newPage();
    await copy.goto(`file://${join(work, 'export-GnuPG', 'readable', 'records.html')}`);
    await copy.getByRole('heading', { name: NOTE_TITLE }).waitFor();
    await copy.getByText(NOTE_BODY).waitFor();
    await screenshots(copy, 'export-readable-copy');
    await copy.close();
  });

  it('when every request the browser sent is searched, then none holds a password, recovery words, plaintext or an unprotected private key', () => {
    expect(captured.length).toBeGreaterThan(20);
    const secrets = [
      patient.password,
      doctor.password,
      EXPORT_PASSPHRASE,
      LAB_TITLE,
      LAB_BODY,
      NOTE_TITLE,
      NOTE_BODY,
      FILE_TEXT,
      'HbA1c',
      'lab-report.pdf',
    ];
    for (const words of recoveryWords)
      secrets.push(words.join(' '), words.join(''), JSON.stringify(words).slice(0, -1));
    expect(leaksOf(captured, secrets)).toEqual([]);
    const keys = privateKeysIn(captured);
    expect(keys.length).toBeGreaterThanOrEqual(4); // register: locked key + recovery copy, for both users
    for (const k of keys) expect(k.protectedPackets).toBeGreaterThanOrEqual(k.secretPackets);
  });
});
