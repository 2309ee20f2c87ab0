import { join } from 'node:path';
import type { Page } from 'playwright-core';

export const WEB_DIST = join(process.cwd(), 'dist');

/** Words that must not be in the main path of a screen (issue 14): technical details stay one click away. */
export const JARGON =
  /pinned|key id|argon2|hash chain|create keys|fingerprint|openpgp|pkesk|[a-z]+-[a-z]+-[a-z]+ \(|error code/i;

export interface Account {
  role: 'patient' | 'doctor';
  name: string;
  email: string;
  password: string;
}

/**
 * Makes a suite's accounts: each password is the person's surname and `suffix` (every suite its
 * own), strong enough for the registration form.
 */
export function accountsWith(suffix: string) {
  return (role: Account['role'], name: string, email: string): Account => ({
    role,
    name,
    email,
    password: `${name.split(' ').pop() ?? 'x'}-${suffix}`,
  });
}

/** Registers through the UI; returns the recovery words the kit showed. */
export async function register(
  page: Page,
  baseUrl: string,
  account: Account,
  onKit?: () => Promise<void>,
): Promise<string[]> {
  await page.goto(`${baseUrl}/register`);
  await page.getByLabel(account.role === 'doctor' ? 'Doctor' : 'Patient').check();
  await page.getByLabel('Full name').fill(account.name);
  await page.getByLabel('Email').fill(account.email);
  await page.getByLabel('Password', { exact: true }).fill(account.password);
  await page.getByLabel('Repeat password').fill(account.password);
  await page.getByRole('button', { name: 'Create account' }).click();
  return confirmRecoveryKit(page, onKit);
}

/** Reads the recovery kit on screen, types back the words it asks for and confirms; returns the words. */
export async function confirmRecoveryKit(
  page: Page,
  onKit?: () => Promise<void>,
): Promise<string[]> {
  const list = page.getByRole('list', { name: 'Recovery words' });
  await list.waitFor({ timeout: 60_000 });
  const words = (await list.locator('li').allTextContents()).map((t) =>
    t.replace(/^\d+\.\s*/, '').trim(),
  );
  expect(words).toHaveLength(12);
  if (onKit) await onKit();
  for (const input of await page.getByLabel(/^Word \d+$/).all()) {
    const id = await input.getAttribute('id');
    const label = await page.locator(`label[for="${id}"]`).textContent();
    const n = Number((label ?? '').replace('Word ', ''));
    await input.fill(words[n - 1] ?? '');
  }
  await page.getByRole('checkbox').check();
  await page.getByRole('button', { name: 'I have saved my recovery words' }).click();
  await page.getByRole('button', { name: 'Lock now' }).waitFor({ timeout: 30_000 });
  return words;
}

export async function loginAs(
  page: Page,
  baseUrl: string,
  account: Account,
  opts: { stayUnlocked?: boolean } = {},
): Promise<void> {
  await page.goto(`${baseUrl}/login`);
  await page.getByLabel('Email').fill(account.email);
  await page.getByLabel('Password', { exact: true }).fill(account.password);
  if (opts.stayUnlocked)
    await page.getByRole('checkbox', { name: /Stay unlocked in this tab/ }).check();
  await page.getByRole('button', { name: 'Log in' }).click();
  await page.getByRole('button', { name: 'Lock now' }).waitFor({ timeout: 60_000 });
}

/** In-app navigation (a reload would lock the keys, as it should). */
export async function go(page: Page, path: string): Promise<void> {
  await page.evaluate((p) => {
    window.history.pushState({}, '', p);
    window.dispatchEvent(new PopStateEvent('popstate'));
  }, path);
}

/** Creates a note through the UI and returns its id. */
export async function createNote(page: Page, title: string, body: string): Promise<string> {
  await go(page, '/records/new');
  await page.getByLabel('Title').fill(title);
  await page.getByLabel('Notes').fill(body);
  await page.getByRole('button', { name: 'Encrypt and save' }).click();
  await page.getByText('Verified: written and signed by').waitFor({ timeout: 60_000 });
  return new URL(page.url()).pathname.split('/')[2] ?? '';
}
