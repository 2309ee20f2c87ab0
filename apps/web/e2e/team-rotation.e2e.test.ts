// A leave interrupted half-way (issue 13: "Rotation interrupted half-way (browser closed) →
// resumes; no record left unreadable for remaining members"; "A removed member → 404 at once for
// reads; cannot decrypt versions written after rotation"). The patient shared with the team but
// gave it no consent to write for her: a re-key needs none (docs/care-teams.md "Re-keying").
// The admin removes a member in the UI; the re-key starts with its progress bar; the tab is
// reloaded while records are left; after unlocking, the team page asks the server what is left
// and finishes. Judged from the server's stored versions and from the keys each doctor holds,
// opened in Node, and by a remaining member reading a re-keyed record in her browser.
import type { Page, Route } from 'playwright-core';
import {
  commitFileKey,
  createRecipientPacket,
  createSessionKey,
  openRecord,
  replayTeamLog,
  sealFile,
  sealRecord,
  teamKeyRef,
  unwrapTeamKey,
  type Fingerprint,
  type Json,
  type RecordExpectation,
  type RecordId,
  type TeamState,
  type UserId,
} from '@medseal/crypto';
import type { RecordDto, TeamDto } from '@medseal/contract';
import { api, registerUser, uploadFile } from './support/api';
import { accountsWith, go, loginAs, type Account } from './support/app';
import { newDevice, type CapturedRequest } from './support/browser';
import { browserSuite } from './support/suite';
import {
  addMember,
  consentToTeam,
  createNote,
  createTeam,
  newId,
  shareWithTeam,
  type NodeTeam,
  registeredUsers,
} from './support/teams';
import { unlock } from './support/victim';

const RECORDS = 12;
const FILE_TEXT = 'Medseal follow-up attachment: blood pressure 128/82';
const account = accountsWith('Pebble-Harbor-73');
const admin = account('doctor', 'Dr Rhea Admin', 'rhea-admin@example.org');
const stayer = account('doctor', 'Dr Sol Stayer', 'sol-stayer@example.org');
const leaver = account('doctor', 'Dr Lea Leaver', 'lea-leaver@example.org');
const patient = account('patient', 'Ria Patient', 'ria-patient@example.org');
const third = account('doctor', 'Dr Tom Third', 'tom-third@example.org');

const suite = browserSuite();
const captured: CapturedRequest[] = [];
const users = registeredUsers();
const { user } = users;
let team: NodeTeam;
/** The remaining member's browser, kept from the first test (her tab then holds the team as it was). */
let stayerPage: Page | undefined;
const recordIds: string[] = [];

beforeAll(async () => {
  for (const a of [admin, stayer, leaver, patient, third])
    users.set(a, await registerUser(suite.server.baseUrl, a));
  team = await createTeam(user(admin));
  await addMember(team, user(admin), user(stayer));
  await addMember(team, user(admin), user(leaver));
  await addMember(team, user(admin), user(third));
  // No consent to the team: a re-key cannot change what a record says, so it needs none.
  for (let i = 0; i < RECORDS; i++) {
    const record = await createNote(user(patient), `Ward round ${i + 1}`);
    await shareWithTeam(user(patient), team, record);
    recordIds.push(record.id);
  }
});

/** `who`'s copy of generation `gen` of the team key, unwrapped in Node from her envelope. */
async function teamKeyOf(who: Account, gen: number) {
  const envelope = await api<{ message: string }>(
    user(who).session,
    'GET',
    `/teams/${team.id}/key-envelopes/${gen}`,
  );
  const dto = await api<TeamDto>(user(admin).session, 'GET', `/teams/${team.id}`);
  const served = dto.keys.find((k) => k.gen === gen);
  if (!served) throw new Error(`no generation ${gen}`);
  return unwrapTeamKey({
    message: envelope.message,
    myKey: user(who).key.privateKey,
    context: { teamId: team.id, gen, memberId: user(who).id },
    expected: await teamKeyRef(served.publicKey),
  });
}

/** The team as its statements say, replayed in Node from what the server serves. */
async function teamState(): Promise<TeamState> {
  const page = await api<{ statements: { signed: string }[]; publicKeys: { publicKey: string }[] }>(
    user(admin).session,
    'GET',
    `/teams/${team.id}/statements?from=0`,
  );
  const replayed = await replayTeamLog({
    teamId: team.id,
    statements: page.statements.map((x) => x.signed),
    publicKeys: page.publicKeys.map((k) => k.publicKey),
  });
  if (replayed.status !== 'verified')
    throw new Error(`the team's log did not verify: ${replayed.status}`);
  return replayed.state;
}

/**
 * Opens the stored current version of a record with `key`, with every check the app makes: a
 * re-key must be signed by a current admin, and its base must open, with the session key it
 * names, as the patient's own version. Returns the status, and the title when it verified.
 */
async function openCurrent(
  recordId: string,
  key: Awaited<ReturnType<typeof teamKeyOf>>,
): Promise<string> {
  const dto = await api<RecordDto>(user(patient).session, 'GET', `/records/${recordId}`);
  const access = await api<{ teams: { signedGrant: string }[] }>(
    user(patient).session,
    'GET',
    `/records/${recordId}/access`,
  );
  const expect: RecordExpectation = {
    recordId: recordId as RecordId,
    version: dto.version,
    ownerId: user(patient).id as UserId,
    authorId: dto.authorId as UserId,
    authorPublicKey: user(patient).key.publicKey,
    ownerFingerprint: user(patient).key.fingerprint,
    recipients: [...dto.recipients, ...dto.teams].map((r) => r.fingerprint as Fingerprint),
    teamGrants: access.teams.map((t) => ({
      signedGrant: t.signedGrant,
      signerPublicKey: user(patient).key.publicKey,
    })),
    teams: [await teamState()],
    ...(dto.rekeyedBy === user(admin).id
      ? {
          rekeyedBy: {
            userId: user(admin).id as UserId,
            publicKey: user(admin).key.publicKey,
            check: 'current-admin' as const,
          },
        }
      : {}),
  };
  const top = await openRecord({ message: dto.message, myKey: key, expect });
  if (top.status !== 'rekeyed') return top.status;
  const base = await api<{
    version: number;
    message: string;
    recipients: { fingerprint: string }[];
    teams: { fingerprint: string }[];
  }>(user(patient).session, 'GET', `/records/${recordId}/versions/${top.rekey.baseVersion}`);
  const { rekeyedBy: _rekey, ...baseExpect } = expect;
  const opened = await openRecord({
    message: base.message,
    sessionKey: top.baseSessionKey,
    expect: {
      ...baseExpect,
      version: base.version,
      recipients: [...base.recipients, ...base.teams].map((r) => r.fingerprint as Fingerprint),
      dataSha256: top.rekey.baseDataSha256,
    },
  });
  return opened.status === 'verified'
    ? `re-keyed: ${String(opened.envelope.content.title)}`
    : opened.status;
}

describe('a leave whose re-key is interrupted (real Chromium)', () => {
  it('when the admin removes a member and reloads the tab half-way through the re-key, then the leaver gets 404 at once, the re-key resumes and finishes for a patient who gave the team no consent, and only the remaining members open the new versions', async () => {
    // What the leaver keeps: her copy of generation 1, unwrapped before she goes.
    const kept = await teamKeyOf(leaver, 1);
    const { page } = await newDevice(suite.browser, captured);
    await loginAs(page, suite.server.baseUrl, admin);
    // Each re-keyed version reaches the server a little later, so that the reload lands half-way.
    const slow = async (route: Route) => {
      await new Promise((resolve) => setTimeout(resolve, 700));
      await route.fallback();
    };
    await page.route(
      (url) => /^\/api\/records\/[^/]+\/rekey$/.test(url.pathname),
      (route) => (route.request().method() === 'POST' ? slow(route) : route.fallback()),
    );

    await go(page, `/teams/${team.id}`);
    await page.getByRole('button', { name: `Remove ${leaver.name}` }).click();
    await page
      .getByRole('button', { name: `Remove ${leaver.name}` })
      .last()
      .click();
    await page
      .locator('tr', { hasText: leaver.name })
      .waitFor({ state: 'detached', timeout: 60_000 });
    for (const id of recordIds.slice(0, 3))
      await expect(api(user(leaver).session, 'GET', `/records/${id}`)).rejects.toThrow(/HTTP 404/);
    await expect(api(user(leaver).session, 'GET', `/teams/${team.id}/records`)).rejects.toThrow(
      /HTTP 404/,
    );

    // Half-way: some records done, some left; then the tab goes away (a reload locks the keys).
    await page
      .getByRole('progressbar', { name: /Re-encrypted [1-9]\d* of 12 records/ })
      .waitFor({ timeout: 60_000 });
    await page.unrouteAll({ behavior: 'ignoreErrors' });
    await page.reload();
    const stale = async () =>
      (
        await Promise.all(
          recordIds.map((id) => api<RecordDto>(user(admin).session, 'GET', `/records/${id}`)),
        )
      ).filter((r) => r.teams.some((t) => t.gen < 2)).length;
    // Versions already on their way may still land; what is left is counted once they have.
    await new Promise((resolve) => setTimeout(resolve, 1500));
    const leftAtReload = await stale();
    expect(leftAtReload).toBeGreaterThan(0);
    expect(leftAtReload).toBeLessThan(RECORDS);
    await unlock(page, admin);

    await go(page, `/teams/${team.id}`);
    await page
      .getByText('Every record the server lists as shared with the team now uses its new key.')
      .waitFor({ timeout: 120_000 });
    expect(await stale()).toBe(0);

    const stayerKey = await teamKeyOf(stayer, 2);
    for (const [i, id] of recordIds.entries()) {
      expect([id, await openCurrent(id, kept)]).toEqual([id, 'not-for-me']);
      expect([id, await openCurrent(id, stayerKey)]).toEqual([id, `re-keyed: Ward round ${i + 1}`]);
    }
    // The remaining member reads a re-keyed record in her browser: the patient's note, re-encrypted by the admin.
    const stayerDevice = await newDevice(suite.browser, captured);
    stayerPage = stayerDevice.page;
    await loginAs(stayerDevice.page, suite.server.baseUrl, stayer);
    await go(stayerDevice.page, `/records/${recordIds[0] ?? ''}`);
    await stayerDevice.page
      .getByTestId('rekeyed-by')
      .getByText(`Re-encrypted by ${admin.name}`, { exact: false })
      .waitFor({ timeout: 60_000 })
      .catch(async (error: unknown) => {
        throw new Error(
          `${String(error)}\n--- page ---\n${await stayerDevice.page.locator('main').innerText()}`,
        );
      });
    await stayerDevice.page.getByText('Ward round 1').first().waitFor();
  });

  it('when a member saves an edit of a note with a file with the team key her tab held before another rotation, then her browser picks up the new key, the edit is stored under it, and the kept file opens with the new key', async () => {
    if (!stayerPage) throw new Error('the first test keeps the remaining member’s tab');
    const page = stayerPage;
    // A note she writes for the patient through the team, under the patient's consent to it.
    await consentToTeam(user(patient), team);
    const dto = await api<TeamDto>(user(admin).session, 'GET', `/teams/${team.id}`);
    const current = dto.keys[dto.keys.length - 1];
    if (!current) throw new Error('no team key');
    const noteId = newId();
    const author = user(stayer);
    const readers = [user(patient).key.publicKey, current.publicKey];
    const note = async (version: number, attachments: Json[]) =>
      (
        await sealRecord({
          envelope: {
            recordId: noteId as RecordId,
            version,
            ownerId: user(patient).id as UserId,
            authorId: author.id as UserId,
            createdAt: new Date().toISOString(),
            content: {
              v: 1,
              kind: 'note',
              title: 'Follow-up',
              date: '2026-12-03',
              body: 'Seen again.',
              attachments,
            },
          },
          authorKey: author.key.privateKey,
          recipientKeys: readers,
        })
      ).message;
    const asRead = {
      recipients: [{ userId: user(patient).id, fingerprint: user(patient).key.fingerprint }],
      teams: [{ teamId: team.id, fingerprint: current.fingerprint }],
    };
    await api(author.session, 'POST', '/records', {
      recordId: noteId,
      ownerId: user(patient).id,
      ...asRead,
      message: await note(1, []),
    });
    // With a file, as her browser writes one: sealed to the patient and the team's current key,
    // its session key committed to in the signed content.
    const sessionKey = createSessionKey();
    const data = Buffer.from(`%PDF-1.4\n% ${FILE_TEXT}\n%%EOF\n`);
    const file = await sealFile({
      data,
      authorKey: author.key.privateKey,
      recipientKeys: readers,
      sessionKey,
    });
    const fileId = await uploadFile(author.session, noteId, file.message);
    const keyCommitment = await commitFileKey({ fileId, sessionKey });
    const ref = {
      id: fileId,
      name: 'follow-up.pdf',
      type: 'application/pdf',
      size: data.length,
      sha256: file.sha256,
      by: author.id,
      keyCommitment,
    };
    await api(author.session, 'PUT', `/records/${noteId}`, {
      baseVersion: 1,
      ...asRead,
      message: await note(2, [ref]),
    });
    await go(page, `/records/${noteId}`);
    await page.getByText('Seen again.').waitFor({ timeout: 60_000 });
    await page.getByRole('link', { name: 'Edit' }).click();
    await page
      .getByRole('button', { name: 'Encrypt and save new version' })
      .waitFor({ timeout: 30_000 });

    // Meanwhile the admin removes another member: a new team key. Her re-keys are held back, so
    // the note is still on the key the member's tab knows when she saves.
    const adminDevice = await newDevice(suite.browser, captured);
    await adminDevice.page.route(
      (url) => /\/rekey$/.test(url.pathname),
      (route) => route.abort(),
    );
    await loginAs(adminDevice.page, suite.server.baseUrl, admin);
    await go(adminDevice.page, `/teams/${team.id}`);
    await adminDevice.page.getByRole('button', { name: `Remove ${third.name}` }).click();
    await adminDevice.page
      .getByRole('button', { name: `Remove ${third.name}` })
      .last()
      .click();
    await adminDevice.page
      .locator('tr', { hasText: third.name })
      .waitFor({ state: 'detached', timeout: 60_000 });

    await page.getByLabel('Notes').fill('Seen again; better.');
    await page.getByRole('button', { name: 'Encrypt and save new version' }).click();
    await page.waitForURL((url) => url.pathname === `/records/${noteId}`, { timeout: 60_000 });
    await page.getByText('Seen again; better.').waitFor({ timeout: 60_000 });
    const stored = await api<RecordDto>(user(patient).session, 'GET', `/records/${noteId}`);
    expect([stored.version, stored.teams.map((t) => t.gen)]).toEqual([3, [3]]);
    // The file she kept got the new key's packet with her version: a member opens it with the
    // key of generation 3 (the re-key will skip the note: its team is current).
    const { packets } = await api<{ packets: string[] }>(
      user(patient).session,
      'GET',
      `/records/${noteId}/attachments/${fileId}/packets`,
    );
    await expect(
      createRecipientPacket({
        recipientPackets: packets,
        myKey: await teamKeyOf(stayer, 3),
        newRecipientKey: user(patient).key.publicKey,
        expectKeyCommitment: { fileId, commitment: keyCommitment },
      }),
    ).resolves.toEqual(expect.any(String));
  });
});
