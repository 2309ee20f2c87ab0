jest.setTimeout(600_000);
// Issue 14, accessibility: axe-core scans every main page, signed out, as a patient and as a
// doctor, at 1280 and 390 px and in dark mode: no violation of serious or critical impact and
// no heading-order issue.
import { AxeBuilder } from '@axe-core/playwright';
import type { Page } from 'playwright-core';
import { newDevice, screenshots, type CapturedRequest } from './support/browser';
import { browserSuite } from './support/suite';
import { createNote, go, JARGON, loginAs, type Account } from './support/app';
import { registerUser } from './support/api';
import { settled, shareWith, writeNoteFor } from './support/victim';

const patient: Account = {
  role: 'patient',
  name: 'Alma Patient',
  email: 'alma@example.org',
  password: 'Cobalt-Orchard-Thistle-41',
};
const doctor: Account = {
  role: 'doctor',
  name: 'Dr Bea Lund',
  email: 'bea@clinic.example',
  password: 'Saffron-Glacier-Pylon-76',
};

const suite = browserSuite();
const captured: CapturedRequest[] = [];

/** What the issue counts: serious and critical violations, and every heading-order issue. */
async function problems(page: Page, where: string): Promise<string[]> {
  await settled(page);
  const { violations } = await new AxeBuilder({ page }).analyze();
  return violations
    .filter((v) => v.impact === 'serious' || v.impact === 'critical' || v.id === 'heading-order')
    .map(
      (v) =>
        `${where}: ${v.id} (${v.impact ?? '?'}) ${v.help} — ${v.nodes
          .map((n) => n.target.join(' '))
          .slice(0, 3)
          .join(' | ')}`,
    );
}

/** A page as scanned, in dark mode, at 1280 and 390 px (to look at). */
async function darkScreenshots(
  page: Page,
  path: string,
  ready: (p: Page) => Promise<unknown>,
  name: string,
) {
  await go(page, path);
  await ready(page);
  await page.emulateMedia({ colorScheme: 'dark' });
  await screenshots(page, name);
  await page.emulateMedia({ colorScheme: 'light' });
}

/** Each page at 1280 and 390 px, light, and at 1280 px dark; and in plain words (issue 14: no jargon in the main path). */
async function scanPages(
  page: Page,
  pages: { path: string; ready: (p: Page) => Promise<unknown> }[],
): Promise<string[]> {
  const found: string[] = [];
  for (const { path, ready } of pages) {
    await go(page, path);
    await ready(page);
    const jargon = (await page.locator('main').innerText()).match(JARGON);
    if (jargon) found.push(`${path}: jargon in the main path: “${jargon[0]}”`);
    for (const [width, scheme] of [
      [1280, 'light'],
      [390, 'light'],
      [1280, 'dark'],
    ] as const) {
      await page.setViewportSize({ width, height: width === 390 ? 844 : 900 });
      await page.emulateMedia({ colorScheme: scheme });
      found.push(...(await problems(page, `${path} ${width}px ${scheme}`)));
    }
    await page.setViewportSize({ width: 1280, height: 900 });
    await page.emulateMedia({ colorScheme: 'light' });
  }
  return found;
}

const heading = (name: string | RegExp) => (p: Page) =>
  p.getByRole('heading', { level: 1, name }).waitFor({ timeout: 60_000 });
const text = (t: string) => (p: Page) => p.getByText(t).first().waitFor({ timeout: 60_000 });

let recordId = '';
let doctorRecordId = '';
let patientId = '';

describe('axe-core and plain words on every main page (issue 14)', () => {
  beforeAll(async () => {
    const p = await registerUser(suite.server.baseUrl, patient);
    patientId = p.id;
    await registerUser(suite.server.baseUrl, doctor);
  });

  it('when signed out (log in, register, recover), then no serious or critical violation and no heading-order issue', async () => {
    const { page, context } = await newDevice(suite.browser, captured);
    await page.goto(`${suite.server.baseUrl}/login`);
    const found: string[] = [];
    for (const [path, name] of [
      ['/login', /Log in/],
      ['/register', /Create/],
      ['/recover', /Recover/],
    ] as const) {
      await go(page, path);
      await heading(name)(page);
      for (const [width, scheme] of [
        [1280, 'light'],
        [390, 'light'],
        [1280, 'dark'],
      ] as const) {
        await page.setViewportSize({ width, height: 900 });
        await page.emulateMedia({ colorScheme: scheme });
        found.push(...(await problems(page, `${path} ${width}px ${scheme}`)));
      }
      await page.emulateMedia({ colorScheme: 'light' });
    }
    expect(found).toEqual([]);
    await context.close();
  });

  it('when a patient uses the app, then no page has a serious or critical violation or a heading-order issue', async () => {
    const { page, context } = await newDevice(suite.browser, captured);
    await loginAs(page, suite.server.baseUrl, patient);
    const found = await scanPages(page, [{ path: '/records', ready: heading('Records') }]);
    recordId = await createNote(page, 'Knee MRI', 'Small meniscus tear, physio first');
    expect(await shareWith(page, recordId, doctor)).toBe('shared');
    found.push(
      ...(await scanPages(page, [
        { path: '/records', ready: text('Knee MRI') },
        { path: '/records/new', ready: heading('New record') },
        { path: `/records/${recordId}`, ready: text('Small meniscus tear, physio first') },
        {
          path: `/records/${recordId}/edit`,
          ready: (p) => p.getByLabel('Title').waitFor({ timeout: 60_000 }),
        },
        { path: `/records/${recordId}/history`, ready: heading('Version history') },
        { path: '/contacts', ready: text(doctor.name) },
        { path: '/access-log', ready: heading('Access log') },
        { path: '/settings', ready: heading('Settings') },
      ])),
    );
    await darkScreenshots(
      page,
      `/records/${recordId}`,
      text('Small meniscus tear, physio first'),
      'a11y-record-dark',
    );
    expect(found).toEqual([]);
    await context.close();
  });

  it('when a doctor uses the app, then no page has a serious or critical violation or a heading-order issue', async () => {
    const { page, context } = await newDevice(suite.browser, captured);
    await loginAs(page, suite.server.baseUrl, doctor);
    await writeNoteFor(page, patientId, { title: 'Follow-up', body: 'Review in six weeks' });
    await page.getByText('Verified: written and signed by you').waitFor();
    doctorRecordId = new URL(page.url()).pathname.split('/')[2] ?? '';
    const found = await scanPages(page, [
      { path: '/patients', ready: text(patient.name) },
      { path: `/patients/${patientId}`, ready: text('Knee MRI') },
      { path: '/records', ready: text('Follow-up') },
      { path: `/records/${recordId}`, ready: text('Small meniscus tear, physio first') },
      { path: `/records/${doctorRecordId}`, ready: text('Review in six weeks') },
      { path: `/records/new?owner=${patientId}`, ready: heading(/New record/) },
      { path: '/teams', ready: heading('Care teams') },
      { path: '/contacts', ready: heading('Contacts') },
      { path: '/access-log', ready: heading('Access log') },
      { path: '/settings', ready: heading('Settings') },
    ]);
    await darkScreenshots(page, '/records', text('Follow-up'), 'a11y-doctor-records-dark');
    // The pages whose words changed (issue 14), to look at in light mode at both widths.
    await go(page, `/records/${recordId}`);
    await text('Small meniscus tear, physio first')(page);
    await screenshots(page, 'plain-record-unverified-signer');
    await go(page, '/settings');
    await heading('Settings')(page);
    await screenshots(page, 'plain-settings');
    expect(found).toEqual([]);
    await context.close();
  });
});
