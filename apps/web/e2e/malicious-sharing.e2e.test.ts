// Malicious server, sharing and other people's keys (issue 10 classes 1, 3, 4, 12; DESIGN §12–§13).
// The operator rewrites API answers in the victim's browser and edits the database; the tests
// judge by what the browser sent (opened with the attacker's own key) and what the user sees.
//
// What the app must provide for these tests (the trust fix keeps or builds it):
// - Every security warning or refusal is an element with role=alert (or role=status) whose text
//   matches SECURITY_WORDS in support/malicious-server.ts (tampered, not verified, refused, ...).
// - Loading and saving show an element with aria-busy="true" until they are done, and the
//   warnings they lead to are on the page by then.
// - Sharing: the record page has a "Share…" button; the dialog an email field (label with
//   "email") and a "Find" button; the key check a "Share with <name>" button and, for a key to
//   compare, "Mark as verified" (or "Verify now"). For a key the user has not verified, "Share
//   with <name>" sends nothing: it opens a first-contact step whose explicit choice to share is a
//   button matching /share without verifying/i, which is not the focused (default) action.
// - Revoke: the reader's list item has a "Revoke…" button and the confirmation a
//   "Revoke access for <name>" button; aria-busy stays until every re-keyed version and file is
//   stored.
// Tests of attacks that work today are it.failing (main stays green); trust flips them to it.
import type { Page } from 'playwright-core';
import type { AccessListResponse, DirectoryResponse, RecordDto } from '@medseal/contract';
import { registerUser } from './support/api';
import { createNote, go, register, type Account } from './support/app';
import { newDevice, type CapturedRequest } from './support/browser';
import {
  answerWithout,
  encryptionKeyIdsOf,
  expectSecurityWarning,
  forgedMarker,
  grantsSent,
  hideReader,
  isGrantRequest,
  realBytes,
  realJson,
  requestsEncryptingTo,
  requestsOpening,
  rewriteJson,
  securityWarnings,
  serveKeyAs,
  serveOther,
  shownText,
  stopAll,
  storedUser,
  totalHits,
  type Attack,
  type StoredUser,
} from './support/malicious-server';
import { browserSuite } from './support/suite';
import {
  clickShareOnce,
  closeDevices,
  createNoteWithFile,
  expectWarningOnceSettled,
  findToShare,
  freshDevice,
  openRecordPage,
  pdfFile,
  revokeReader,
  scratchFolder,
  SHARE_WITHOUT_VERIFYING,
  shareWith,
  writeNoteFor,
} from './support/victim';

const patient: Account = {
  role: 'patient',
  name: 'Iris Patient',
  email: 'iris@example.org',
  password: 'Lichen-Marble-Osprey-40',
};
const dana: Account = {
  role: 'doctor',
  name: 'Dr Dana Fox',
  email: 'dana@clinic.example',
  password: 'Quartz-Willow-Harbor-17',
};
const cara = {
  role: 'doctor' as const,
  name: 'Dr Cara Lee',
  email: 'cara@practice.example',
  password: 'Meadow-Copper-Lantern-51',
};
// The operator's own doctor account; its private key (made in Node) is the oracle for leaks.
const malloryAccount = {
  role: 'doctor' as const,
  name: 'Dr Mallory Vance',
  email: 'mallory@evil.example',
  password: 'Ember-Falcon-Glacier-64',
};

const suite = browserSuite({ readCacheTtlMs: 0 });
const captured: CapturedRequest[] = [];
const files = scratchFolder();
const attacks: Attack[] = [];
const stage = { suite, captured, attacks };
let patientPage: Page;
let patientPublicKey = '';
let danaPage: Page;
let patientUser: StoredUser;
let danaUser: StoredUser;
let caraUser: StoredUser;
let mallory: Awaited<ReturnType<typeof registerUser>>;
let malloryKeyIds: string[] = [];

beforeAll(async () => {
  ({ page: patientPage } = await newDevice(suite.browser, captured));
  await register(patientPage, suite.server.baseUrl, patient);
  ({ page: danaPage } = await newDevice(suite.browser, captured));
  await register(danaPage, suite.server.baseUrl, dana);
  await registerUser(suite.server.baseUrl, cara);
  mallory = await registerUser(suite.server.baseUrl, malloryAccount);
  malloryKeyIds = await encryptionKeyIdsOf(mallory.key.publicKey);
  [patientUser, danaUser, caraUser] = await Promise.all([
    storedUser(suite.server, patient.email),
    storedUser(suite.server, dana.email),
    storedUser(suite.server, cara.email),
  ]);
  patientPublicKey = patientUser.publicKey;
});

afterEach(async () => {
  await stopAll(attacks);
  await closeDevices();
});

/** Another record's file: its id and its whole stored message (what a leaked key would open). */
async function fileOf(page: Page, recordId: string) {
  const dto = await realJson<RecordDto>(page, `/api/records/${recordId}`);
  const file = dto.attachments[0];
  if (!file) throw new Error(`record ${recordId} has no file`);
  return {
    file,
    message: await realBytes(page, `/api/records/${recordId}/attachments/${file.id}`),
  };
}

describe('a malicious server against sharing (real Chromium, API answers rewritten in the browser)', () => {
  // Class 1: sharing wraps only the files the verified content names.
  it('when the server lists another record’s file under the record being shared, then that file’s key is never wrapped for the grantee', async () => {
    const shared = await createNote(patientPage, 'Sprained ankle', 'Rest, ice and compression');
    const secret = await createNoteWithFile(patientPage, {
      title: 'HIV test',
      body: 'Confidential result',
      file: pdfFile(files, 'hiv-test.pdf', 'HIV-1/2 antibody: see letter'),
    });
    const { file, message } = await fileOf(patientPage, secret);
    const listed = await rewriteJson<RecordDto>(
      patientPage,
      { method: 'GET', path: `/api/records/${shared}` },
      (dto) => ({ ...dto, attachments: [...dto.attachments, file] }),
    );
    attacks.push(
      listed,
      await serveOther(
        patientPage,
        { method: 'GET', path: `/api/records/${shared}/attachments/${file.id}/packets` },
        `/api/records/${secret}/attachments/${file.id}/packets`,
      ),
    );

    const since = captured.length;
    await shareWith(patientPage, shared, malloryAccount);
    expect(listed.hits).toBeGreaterThan(0);
    expect(
      await requestsOpening(captured, since, {
        message,
        authorPublicKey: patientPublicKey,
        key: mallory.key.privateKey,
      }),
    ).toEqual([]);
  });

  // Class 1: a file's packets must carry the session key its signed content commits to.
  it('when the server serves another record’s file packets as this record’s file, then sharing refuses and that key is never wrapped for the grantee', async () => {
    const shared = await createNoteWithFile(patientPage, {
      title: 'Physio exercises',
      body: 'Daily stretches',
      file: pdfFile(files, 'exercises.pdf', 'Calf raises x20'),
    });
    const secret = await createNoteWithFile(patientPage, {
      title: 'Psychiatric assessment',
      body: 'Confidential',
      file: pdfFile(files, 'assessment.pdf', 'Assessment details'),
    });
    const own = (await fileOf(patientPage, shared)).file;
    const { file, message } = await fileOf(patientPage, secret);
    const swapped = await serveOther(
      patientPage,
      { method: 'GET', path: `/api/records/${shared}/attachments/${own.id}/packets` },
      `/api/records/${secret}/attachments/${file.id}/packets`,
    );
    attacks.push(swapped);

    const since = captured.length;
    await shareWith(patientPage, shared, malloryAccount);
    expect(swapped.hits).toBeGreaterThan(0);
    expect(
      await requestsOpening(captured, since, {
        message,
        authorPublicKey: patientPublicKey,
        key: mallory.key.privateKey,
      }),
    ).toEqual([]);
    await expectSecurityWarning(patientPage);
  });

  // Class 12: "Share with <name>" for a never-seen key asks first (compare, or share without verifying); comparing is the focused choice.
  it('when a patient shares with a key nobody has compared, then the first click asks first and sends nothing', async () => {
    const newcomer = {
      role: 'doctor' as const,
      name: 'Dr Nia Newcomb',
      email: 'nia@practice.example',
      password: 'Thistle-Comet-Raven-23',
    };
    await registerUser(suite.server.baseUrl, newcomer);
    const recordId = await createNote(
      patientPage,
      'Blood pressure diary',
      'Morning readings for two weeks',
    );
    const since = captured.length;
    expect(await findToShare(patientPage, recordId, newcomer)).toBe(true);
    expect(await clickShareOnce(patientPage, newcomer.name)).toBe('asked');
    expect(grantsSent(captured, since)).toEqual([]);
    const focused = await patientPage.evaluate(() => document.activeElement?.textContent ?? '');
    expect(focused).not.toMatch(SHARE_WITHOUT_VERIFYING);
    // The explicit choice then shares.
    const grant = patientPage.waitForRequest(isGrantRequest, { timeout: 60_000 });
    await patientPage.getByRole('button', { name: SHARE_WITHOUT_VERIFYING }).click();
    expect((await (await grant).response())?.status()).toBe(201);
  });

  // Class 3: a co-reader's directory key must have the fingerprint the patient's verified records give for them.
  it('when the directory swaps the key of a co-reader the doctor never pinned, then the doctor’s note is not encrypted to the swapped key', async () => {
    const recordId = await createNote(patientPage, 'Knee MRI', 'Small meniscus tear');
    expect(await shareWith(patientPage, recordId, dana)).toBe('shared');
    expect(await shareWith(patientPage, recordId, cara)).toBe('shared');
    // A second device of Dana's, attacked from its first request on (a tab caches the keys it looked up).
    const danaDevice = await freshDevice(stage, dana, (page) =>
      serveKeyAs(page, caraUser._id, mallory.key),
    );
    const since = captured.length;
    await writeNoteFor(danaDevice, patientUser._id, {
      title: 'Knee follow-up',
      body: 'Physiotherapy for six weeks',
      coReader: cara.name,
    });
    expect(totalHits(attacks)).toBeGreaterThan(0);
    expect(await requestsEncryptingTo(captured, since, malloryKeyIds)).toEqual([]);
    await expectSecurityWarning(danaDevice);
  });

  // Class 4: revoke re-keys to the verified readers minus the revoked one, whatever the server still lists.
  it('when the server ignores a revoke, then the re-keyed version is not encrypted to the revoked reader', async () => {
    const recordId = await createNote(patientPage, 'Therapy notes', 'Session summary');
    expect(await shareWith(patientPage, recordId, dana)).toBe('shared');
    const ignored = await answerWithout(
      patientPage,
      { method: 'DELETE', path: `/api/records/${recordId}/grants/${danaUser._id}` },
      { status: 204 },
    );
    attacks.push(ignored);
    const since = captured.length;
    await revokeReader(patientPage, recordId, dana.name);
    expect(ignored.hits).toBeGreaterThan(0);
    expect(
      await requestsEncryptingTo(captured, since, await encryptionKeyIdsOf(danaUser.publicKey)),
    ).toEqual([]);
  });

  // A revoked reader's old signed grant, served again while her key is withheld as the record is
  // opened (so her missing packet goes unseen), must not make the next version encrypted to her.
  it('when the server lists a revoked reader again with her old grant and withholds her key while the record is opened, then the next edit is refused and nothing is encrypted to her', async () => {
    const recordId = await createNote(patientPage, 'Dermatology', 'Eczema on the left hand');
    expect(await shareWith(patientPage, recordId, dana)).toBe('shared');
    const { entries } = await realJson<AccessListResponse>(
      patientPage,
      `/api/records/${recordId}/access`,
    );
    const oldGrant = entries.find((e) => e.userId === danaUser._id);
    if (!oldGrant) throw new Error('no grant for Dana');
    await revokeReader(patientPage, recordId, dana.name);
    const danaAgain = { userId: danaUser._id, fingerprint: danaUser.fingerprint };
    // Her key withheld from every directory answer (one by id, and lists of several) from the
    // device's first request on: other records she reads would have cached it at login.
    const withheld: Attack[] = [];
    const page = await freshDevice(stage, patient, async (p) => {
      withheld.push(
        await answerWithout(
          p,
          { method: 'GET', path: `/api/users/${danaUser._id}` },
          { status: 500, json: { error: { code: 'internal', message: 'Something went wrong.' } } },
        ),
        await rewriteJson<DirectoryResponse>(p, { method: 'GET', path: '/api/users' }, (b) => ({
          users: b.users.filter((u) => u.id !== danaUser._id),
        })),
      );
      return [
        ...withheld,
        await rewriteJson<RecordDto>(
          p,
          { method: 'GET', path: `/api/records/${recordId}` },
          (dto) => ({ ...dto, recipients: [...dto.recipients, danaAgain] }),
        ),
        await rewriteJson<AccessListResponse>(
          p,
          { method: 'GET', path: `/api/records/${recordId}/access` },
          (list) => ({ ...list, entries: [...list.entries, oldGrant] }),
        ),
      ];
    });
    await go(page, `/records/${recordId}/edit`);
    const save = page.getByRole('button', { name: /^Encrypt and save/ });
    await save.waitFor({ timeout: 60_000 });
    expect(totalHits(withheld)).toBeGreaterThan(0);
    await Promise.all(withheld.map((a) => a.stop()));
    const since = captured.length;
    await page.getByLabel('Notes').fill('Eczema, improving');
    await save.click();
    await page
      .getByRole('alert')
      .filter({ hasText: 'could not be checked' })
      // Saved (before): the record page of version 3, whatever it then says.
      .or(page.getByText('History (version 3)'))
      .first()
      .waitFor({ timeout: 60_000 });
    expect(
      await requestsEncryptingTo(captured, since, await encryptionKeyIdsOf(danaUser.publicKey)),
    ).toEqual([]);
    await page.getByRole('alert').filter({ hasText: 'could not be checked' }).waitFor();
  });

  // Shown = signed: a reader's row is named as the app names that person everywhere, never by the
  // access list's say-so, so the Revoke… on "Dr Cara Lee" revokes Cara.
  it('when the server swaps two readers’ names in the access list, then each row keeps its reader’s name and a revoke takes the one the patient chose', async () => {
    const recordId = await createNote(patientPage, 'Knee MRI', 'Meniscus tear, medial');
    expect(await shareWith(patientPage, recordId, dana)).toBe('shared');
    expect(await shareWith(patientPage, recordId, cara)).toBe('shared');
    const names: Record<string, string> = {
      [danaUser._id]: cara.name,
      [caraUser._id]: dana.name,
    };
    const swapped = await rewriteJson<AccessListResponse>(
      patientPage,
      { method: 'GET', path: `/api/records/${recordId}/access` },
      (list) => ({
        ...list,
        entries: list.entries.map((e) => ({ ...e, name: names[e.userId] ?? e.name })),
      }),
    );
    attacks.push(swapped);
    const since = captured.length;
    await revokeReader(patientPage, recordId, cara.name);
    expect(swapped.hits).toBeGreaterThan(0);
    const revokes = captured
      .slice(since)
      .filter((r) => r.method === 'DELETE' && r.url.includes(`/api/records/${recordId}/grants/`));
    expect(revokes.map((r) => new URL(r.url).pathname.split('/').pop())).toEqual([caraUser._id]);
  });

  // Class 4: revoking the author re-keys from the verified record; the patient signs the new version.
  it('when the patient revokes the doctor who wrote a note, then the note is re-keyed and stays readable for her', async () => {
    const first = await createNote(patientPage, 'Referral', 'To Dr Fox');
    expect(await shareWith(patientPage, first, dana)).toBe('shared');
    const body = `Physiotherapy twice a week ${forgedMarker('NOTE')}`;
    await writeNoteFor(danaPage, patientUser._id, { title: 'Physiotherapy', body });
    const noteId = new URL(danaPage.url()).pathname.split('/')[2] ?? '';
    const since = captured.length;
    await revokeReader(patientPage, noteId, dana.name);
    await openRecordPage(patientPage, noteId, patientPage.getByText(body));
    expect(await securityWarnings(patientPage).allTextContents()).toEqual([]);
    expect(await shownText(patientPage)).toContain(body);
    expect(
      await requestsEncryptingTo(captured, since, await encryptionKeyIdsOf(danaUser.publicKey)),
    ).toEqual([]);
  });

  // Property (attachments re-keyed on revoke): revoke re-encrypts the files under fresh session keys too.
  it('when the patient revokes a reader of a record with a file, then the packet that reader was given no longer opens the file', async () => {
    const recordId = await createNoteWithFile(patientPage, {
      title: 'Scan report',
      body: 'CT abdomen',
      file: pdfFile(files, 'ct-report.pdf', 'CT findings'),
    });
    const since = captured.length;
    expect(await shareWith(patientPage, recordId, malloryAccount)).toBe('shared');
    await revokeReader(patientPage, recordId, malloryAccount.name);
    // The operator kept what the share sent for Mallory, and serves her the file as stored now.
    const { message } = await fileOf(patientPage, recordId);
    expect(
      await requestsOpening(captured, since, {
        message,
        authorPublicKey: patientPublicKey,
        key: mallory.key.privateKey,
      }),
    ).toEqual([]);
  });

  // Property (readers = packets): the message's session key packets must be one per verified reader.
  it('when the stored message is still encrypted to a reader the server no longer lists, then the app warns', async () => {
    const recordId = await createNote(patientPage, 'Genetic test', 'BRCA1 and BRCA2 negative');
    expect(await shareWith(patientPage, recordId, malloryAccount)).toBe('shared');
    await hideReader(suite.server, recordId, mallory.id);
    const page = await freshDevice(stage, patient);
    await openRecordPage(page, recordId, page.getByText('BRCA1 and BRCA2 negative'));
    await expectWarningOnceSettled(page);
  });
});
