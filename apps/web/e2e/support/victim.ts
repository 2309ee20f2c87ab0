// What the victim does in the UI during a malicious-server test, written against roles and
// broad names so the trust fix's UI changes keep working (what the app must provide is listed
// in the header of each malicious-*.e2e.test.ts file).
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { unzipSync } from 'fflate';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Browser, BrowserContext, Locator, Page, Request } from 'playwright-core';
import { go, loginAs, type Account } from './app';
import { newDevice, type CapturedRequest } from './browser';
import { isGrantRequest, securityWarnings, type Attack } from './malicious-server';
import type { BrowserSuite } from './suite';

/** The record page's button that opens the share dialog ("Share…"). */
const OPEN_SHARE = /^Share(…|\.\.\.)?$/;
/** The first-contact step's explicit choice to share with a key nobody compared. */
export const SHARE_WITHOUT_VERIFYING =
  /share without (verifying|comparing)|share anyway|share unverified|yes, share/i;
/** Opens the verification screen; "They match" there marks the key verified. */
export const COMPARE = /^(compare numbers with|mark as verified|verify now|verify)/i;
export const THEY_MATCH = /^they match$/i;

const escape = (s: string) => s.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
const LONG = { timeout: 60_000 };

/** Waits until nothing on the page says it is busy (loading, decrypting, saving). */
export async function settled(page: Page): Promise<void> {
  await page
    .locator('[aria-busy="true"]')
    .first()
    .waitFor({ state: 'detached', ...LONG });
}

/** A security warning is on the page once it has settled (for attacks today's app shows nothing about). */
export async function expectWarningOnceSettled(page: Page): Promise<void> {
  await settled(page);
  expect(await securityWarnings(page).allTextContents()).not.toEqual([]);
}

/**
 * Waits until the page shows one of `outcomes` or a security warning, then until it settled.
 * Pass the forged data too where it would show, so a vulnerable app is caught showing it.
 */
export async function outcome(page: Page, ...outcomes: Locator[]): Promise<void> {
  await outcomes
    .reduce((all, o) => all.or(o), securityWarnings(page))
    .first()
    .waitFor(LONG);
  await settled(page);
}

/** Another device (browser context) for this test; `closeDevices` in afterEach closes it. */
export async function extraDevice(browser: Browser, captured: CapturedRequest[]): Promise<Page> {
  const { context, page } = await newDevice(browser, captured);
  extra.push(context);
  return page;
}

const extra: BrowserContext[] = [];

/** What a malicious-server suite runs on: its server and browser, what was sent, and the running attacks. */
export interface Stage {
  suite: BrowserSuite;
  captured: CapturedRequest[];
  attacks: Attack[];
}

/**
 * Another device of `account`, attacked from its first request on, then logged in. Reading on
 * a fresh device also keeps a tab's caches and in-flight refreshes of earlier steps out of what
 * a test judges.
 */
export async function freshDevice(
  stage: Stage,
  account: Account,
  attack?: (page: Page) => Promise<Attack[]>,
): Promise<Page> {
  const page = await extraDevice(stage.suite.browser, stage.captured);
  if (attack) stage.attacks.push(...(await attack(page)));
  await loginAs(page, stage.suite.server.baseUrl, account);
  return page;
}

export async function closeDevices(): Promise<void> {
  await Promise.all(extra.splice(0).map((c) => c.close()));
}

/** Reload (which locks the keys) and unlock with the password again. */
export async function reloadAndUnlock(page: Page, account: Account): Promise<void> {
  await page.reload();
  await unlock(page, account);
}

/** Unlock a locked tab (after a reload) with the password again. */
export async function unlock(page: Page, account: Account): Promise<void> {
  await page.getByLabel('Password', { exact: true }).fill(account.password);
  await page.getByRole('button', { name: /^(Unlock|Log in)$/ }).click();
  await page
    .getByRole('button', { name: 'Lock now' })
    .or(securityWarnings(page))
    .first()
    .waitFor(LONG);
}

/** A scratch folder for the files a suite uploads; the suite removes it after all its tests. */
export function scratchFolder(): string {
  const dir = mkdtempSync(join(tmpdir(), 'medseal-redteam-'));
  afterAll(() => rmSync(dir, { recursive: true, force: true }));
  return dir;
}

/** A small PDF holding `text`. */
export function pdfFile(dir: string, name: string, text: string): string {
  const path = join(dir, name);
  writeFileSync(path, `%PDF-1.4\n% ${text}\n%%EOF\n`);
  return path;
}

/** Creates a note with one PDF file through the UI; returns the record id. */
export async function createNoteWithFile(
  page: Page,
  note: { title: string; body: string; file: string },
): Promise<string> {
  await go(page, '/records/new');
  await page.getByLabel('Title').fill(note.title);
  await page.getByLabel('Notes').fill(note.body);
  await page.getByLabel(/Add PDF or image files/).setInputFiles(note.file);
  await page.getByRole('button', { name: 'Encrypt and save' }).click();
  await page.getByText('Verified: written and signed by').waitFor(LONG);
  return new URL(page.url()).pathname.split('/')[2] ?? '';
}

const shareButton = (page: Page, name: string) =>
  page.getByRole('button', { name: new RegExp(`^Share with ${escape(name)}`) });

/**
 * Opens a record's share dialog, looks the person up and waits for the key check (or a new
 * warning); false if the app offers no sharing for the record (it refused).
 */
export async function findToShare(
  page: Page,
  recordId: string,
  person: { email: string; name: string },
): Promise<boolean> {
  await go(page, `/records/${recordId}`);
  const open = page.getByRole('button', { name: OPEN_SHARE });
  await outcome(page, open);
  if (!(await open.isVisible())) return false;
  await open.click();
  await page.getByLabel(/email/i).fill(person.email);
  // A warning already on the page (e.g. about the account) is not the look-up's answer.
  const warnings = await securityWarnings(page).count();
  await page.getByRole('button', { name: /^(Find|Search|Look up)$/i }).click();
  await shareButton(page, person.name)
    .or(securityWarnings(page).nth(warnings))
    .first()
    .waitFor(LONG);
  await settled(page);
  return true;
}

/**
 * Clicks "Share with <name>" once (after `findToShare`) and tells what that one click did: sent
 * the grant at once, asked a further first-contact question, or was refused (a disabled or
 * missing button, or a new warning).
 */
export async function clickShareOnce(
  page: Page,
  name: string,
): Promise<'sent' | 'asked' | 'refused'> {
  const share = shareButton(page, name);
  if (!(await share.isVisible()) || (await share.isDisabled())) return 'refused';
  const sent = page.waitForRequest(isGrantRequest, LONG).then(() => 'sent' as const);
  const asked = page
    .getByRole('button', { name: SHARE_WITHOUT_VERIFYING })
    .waitFor(LONG)
    .then(() => 'asked' as const);
  const refused = securityWarnings(page)
    .nth(await securityWarnings(page).count())
    .waitFor(LONG)
    .then(() => 'refused' as const);
  for (const p of [sent, asked, refused]) p.catch(() => undefined);
  await share.click();
  return Promise.race([sent, asked, refused]);
}

/**
 * Shares through the UI as a user would, whatever steps the app asks for: look the person up,
 * optionally mark their key verified, share, and confirm a first contact. Resolves once the
 * grant request was answered ('shared'), or when the app refused ('refused').
 */
export async function shareWith(
  page: Page,
  recordId: string,
  person: { email: string; name: string },
  opts: { verify?: boolean } = {},
): Promise<'shared' | 'refused'> {
  if (!(await findToShare(page, recordId, person))) return 'refused';
  if (opts.verify) {
    const compare = page.getByRole('button', { name: COMPARE });
    if (!(await compare.isVisible())) return 'refused';
    await compare.click();
    const match = page.getByRole('button', { name: THEY_MATCH });
    await match.click();
    await match.waitFor({ state: 'detached', ...LONG });
  }
  let request: Promise<Request> = page.waitForRequest(isGrantRequest, LONG);
  request.catch(() => undefined);
  const first = await clickShareOnce(page, person.name);
  if (first === 'refused') return 'refused';
  if (first === 'asked') {
    // The explicit choice may still be refused (e.g. a file whose key does not match the record).
    request = page.waitForRequest(isGrantRequest, LONG);
    const refused = securityWarnings(page)
      .nth(await securityWarnings(page).count())
      .waitFor(LONG)
      .then(() => 'refused' as const);
    for (const p of [request, refused]) p.catch(() => undefined);
    await page.getByRole('button', { name: SHARE_WITHOUT_VERIFYING }).click();
    if ((await Promise.race([request, refused])) === 'refused') {
      await settled(page);
      return 'refused';
    }
  }
  await (await request).response();
  await settled(page);
  return 'shared';
}

/** Opens a record page and waits until it shows `expected` or a security warning, and has settled. */
export async function openRecordPage(
  page: Page,
  recordId: string,
  expected: Locator,
): Promise<void> {
  // Navigation renders on a later tick: until the page in front is gone, its content (the old
  // record, or a warning on the list) would pass for the outcome before this record was asked for.
  const recordPage = page.getByRole('link', { name: 'Back to records' });
  const list = page.getByRole('heading', { level: 1, name: 'Records', exact: true });
  // Already there (e.g. just saved): leave first, so the record is asked for again.
  if (new URL(page.url()).pathname.startsWith(`/records/${recordId}`)) {
    await go(page, '/records');
    await recordPage.waitFor({ state: 'detached', ...LONG });
    await settled(page);
  }
  await go(page, `/records/${recordId}`);
  await list.waitFor({ state: 'detached', ...LONG });
  await outcome(page, expected);
}

/** Writes a new version of one of my notes with another body. */
export async function editNote(page: Page, recordId: string, body: string): Promise<void> {
  await go(page, `/records/${recordId}/edit`);
  await page.getByLabel('Notes').fill(body);
  await page.getByRole('button', { name: /^Encrypt and save/ }).click();
  // Saved = back on the record page showing the new body (the body alone may show while the
  // save is still under way, and its navigation would then undo the caller's next `go`).
  await page.waitForURL((url) => url.pathname === `/records/${recordId}`, LONG);
  await page.getByText(body).waitFor(LONG);
  await settled(page);
}

/**
 * A doctor writes a note for a patient with the default readers. With `coReader`, first waits
 * until that person is offered as a reader (so the defaults are loaded). Resolves when the app
 * showed the saved note or an alert.
 */
export async function writeNoteFor(
  page: Page,
  patientId: string,
  note: { title: string; body: string; coReader?: string },
): Promise<void> {
  await go(page, `/records/new?owner=${patientId}`);
  await page.getByLabel('Title').fill(note.title);
  await page.getByLabel('Notes').fill(note.body);
  if (note.coReader) await outcome(page, page.getByRole('checkbox', { name: note.coReader }));
  // Only an alert or warning that was not on the page already answers the save (CI5 on
  // 2026-12-05: an alert about the key log, up since login, "answered" it before it was stored).
  const alerts = page.getByRole('alert');
  const warnings = securityWarnings(page);
  const [alertsBefore, warningsBefore] = [await alerts.count(), await warnings.count()];
  await page.getByRole('button', { name: 'Encrypt and save' }).click();
  // Saved, or refused (by the app, or by the server: then the request went out, which the oracles judge).
  await page
    .getByText('Verified: written and signed by you')
    .or(alerts.nth(alertsBefore))
    .or(warnings.nth(warningsBefore))
    .first()
    .waitFor(LONG);
  await settled(page);
}

const isRecordPut = (r: Request) =>
  r.method() === 'PUT' && /^\/api\/records\/[^/]+$/.test(new URL(r.url()).pathname);

/**
 * Revokes a reader through the UI (their list item's "Revoke…", then the confirmation), and
 * waits for the re-keyed version to be stored, or for an alert (a refusal or an error).
 */
export async function revokeReader(page: Page, recordId: string, name: string): Promise<void> {
  const reader = page.getByRole('listitem').filter({ hasText: name });
  await openRecordPage(page, recordId, reader);
  await reader.getByRole('button', { name: /^Revoke/ }).click();
  const confirm = page.getByRole('button', {
    name: new RegExp(`^Revoke access for ${escape(name)}`),
  });
  await confirm.waitFor(LONG);
  // Counted with the confirmation on screen (itself an alert): only a new alert is an answer.
  const alerts = page.getByRole('alert');
  const rekeyed = page.waitForResponse((r) => isRecordPut(r.request()), LONG);
  const alerted = alerts.nth(await alerts.count()).waitFor(LONG);
  for (const p of [rekeyed, alerted]) p.catch(() => undefined);
  await confirm.click();
  await Promise.race([rekeyed, alerted]);
  await settled(page);
}

/** Downloads the export from Settings with `passphrase`; resolves with the zip's files by name. */
export async function downloadExport(
  page: Page,
  passphrase: string,
): Promise<Record<string, Uint8Array>> {
  await page
    .getByRole('navigation', { name: 'Main' })
    .getByRole('link', { name: 'Settings' })
    .click();
  await page.getByLabel('Export passphrase').fill(passphrase);
  const [download] = await Promise.all([
    page.waitForEvent('download', { timeout: 120_000 }),
    page.getByRole('button', { name: 'Download export' }).click(),
  ]);
  return unzipSync(new Uint8Array(readFileSync((await download.path()) ?? '')));
}
