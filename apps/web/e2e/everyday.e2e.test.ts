jest.setTimeout(300_000);
// Issue 14's everyday features for a patient and a doctor in real Chromium: search of decrypted
// records, first steps and empty states, the header at 1280 and 390 px.
import type { Page } from 'playwright-core';
import { ARTIFACTS, newDevice, screenshots, type CapturedRequest } from './support/browser';
import { browserSuite } from './support/suite';
import { createNote, go, loginAs, type Account } from './support/app';
import { registerUser } from './support/api';
import { shareWith } from './support/victim';

const patient: Account = {
  role: 'patient',
  name: 'Ines Patient',
  email: 'ines@example.org',
  password: 'Lantern-Meadow-Copper-58',
};
const doctor: Account = {
  role: 'doctor',
  name: 'Dr Nils Okafor',
  email: 'nils.okafor@clinic.example',
  password: 'Granite-Willow-Signal-84',
};

const suite = browserSuite();
const captured: CapturedRequest[] = [];
let page: Page;

/** A lab result written through the form, on a clinical date of its own. */
async function createLab(
  p: Page,
  input: { title: string; date: string; test: string; value: string; unit: string; notes: string },
) {
  await go(p, '/records/new');
  await p.getByLabel('Kind').selectOption('lab');
  await p.getByLabel('Date').fill(input.date);
  await p.getByLabel('Title').fill(input.title);
  await p.getByLabel('Test 1').fill(input.test);
  await p.getByLabel('Value 1').fill(input.value);
  await p.getByLabel('Unit 1').fill(input.unit);
  await p.getByLabel('Notes').fill(input.notes);
  await p.getByRole('button', { name: 'Encrypt and save' }).click();
  await p.getByText('Verified: written and signed by').waitFor({ timeout: 60_000 });
}

describe('everyday use in real Chromium (issue 14)', () => {
  it('when a new patient types a dictionary word and a year ("Sunflower1985"), then the meter does not call it strong and the estimator is loaded only on the register page', async () => {
    const { page: p } = await newDevice(suite.browser, captured);
    const scripts: string[] = [];
    p.on('request', (r) => {
      if (r.resourceType() === 'script') scripts.push(r.url());
    });
    await p.goto(`${suite.server.baseUrl}/login`);
    await p.getByRole('button', { name: 'Log in' }).waitFor();
    const onLogin = scripts.length;
    await p.goto(`${suite.server.baseUrl}/register`);
    const meter = p.getByRole('meter', { name: 'Password strength' });
    // A long passphrase first: "strong" shows only once zxcvbn-ts (its own chunk) has loaded.
    await p.getByLabel('Password', { exact: true }).fill('Lantern-Meadow-Copper-58-Quietly');
    await p.waitForFunction(
      () =>
        /strong/i.test(
          document.querySelector('[role="meter"]')?.getAttribute('aria-valuetext') ?? '',
        ),
      undefined,
      { timeout: 30_000 },
    );
    expect(scripts.length).toBeGreaterThan(onLogin);
    await p.getByLabel('Password', { exact: true }).fill('Sunflower1985');
    await p.waitForFunction(
      () =>
        !/strong/i.test(
          document.querySelector('[role="meter"]')?.getAttribute('aria-valuetext') ?? 'strong',
        ),
      undefined,
      { timeout: 10_000 },
    );
    expect(Number(await meter.getAttribute('aria-valuenow'))).toBeLessThan(3);
    await screenshots(p, 'register-weak-password');
    await p.context().close();
  });

  beforeAll(async () => {
    await registerUser(suite.server.baseUrl, patient);
    ({ page } = await newDevice(suite.browser, captured));
    await loginAs(page, suite.server.baseUrl, patient);
  });

  it('when a new patient arrives, then the first steps say what to do: write a first record, then share it with a doctor', async () => {
    const steps = page.getByRole('region', { name: 'Welcome to Medseal' });
    await steps.waitFor({ timeout: 60_000 });
    await steps.getByText('Share it with your doctor').waitFor();
    await screenshots(page, 'first-steps-patient');
    // A patient's four links keep one row on a phone.
    await page.setViewportSize({ width: 390, height: 844 });
    const tops = await page
      .getByRole('navigation', { name: 'Main' })
      .getByRole('link')
      .evaluateAll((links) => links.map((l) => l.getBoundingClientRect().top));
    expect(tops).toHaveLength(4);
    expect(new Set(tops).size).toBe(1);
    await page.setViewportSize({ width: 1280, height: 900 });
    await steps.getByRole('link', { name: 'Write your first record' }).click();
    await page.getByRole('heading', { level: 1, name: 'New record' }).waitFor();
    await page.getByLabel('Title').fill('Vaccinations');
    await page.getByLabel('Notes').fill('Tetanus 2024');
    await page.getByRole('button', { name: 'Encrypt and save' }).click();
    await page.getByText('Verified: written and signed by you.').waitFor({ timeout: 60_000 });
    await go(page, '/records');
    await page
      .getByRole('region', { name: 'Records' })
      .getByText('Vaccinations')
      .waitFor({ timeout: 60_000 });
    // Written, not shared yet: the next step is said in one line, the welcome is gone.
    await page
      .getByRole('note')
      .getByText(
        'None of your records is shared yet. To let your doctor read one, open it and choose “Share…”.',
      )
      .waitFor();
    expect(await steps.count()).toBe(0);
    await screenshots(page, 'first-record-share-tip');
  });

  it('when a patient searches her records, then title, text, kind and date find them, in this browser only', async () => {
    await createNote(page, 'Knee MRI', 'Small meniscus tear, physiotherapy first');
    await createNote(page, 'Physio plan', 'Twice a week for the knee, six weeks');
    await createLab(page, {
      title: 'Blood count',
      date: '2025-03-14',
      test: 'Ferritin',
      value: '12',
      unit: 'µg/L',
      notes: 'Low iron, zygomatic rash',
    });
    await go(page, '/records');
    const list = page.getByRole('region', { name: 'Records' });
    await list.getByText('Blood count').waitFor({ timeout: 60_000 });
    const total = 4;
    const box = page.getByRole('searchbox', { name: 'Search records' });
    const titles = async () =>
      (await list.locator('[data-record-id] > span:first-child').allTextContents()).map((t) =>
        t.replace(/\s*New$/, '').trim(),
      );
    const expectFound = async (query: string, expected: string[]) => {
      await box.fill(query);
      await page
        .getByText(`${expected.length} of ${total} records match “${query}”`, { exact: true })
        .waitFor({ timeout: 30_000 });
      // The virtual list lays its rows out once it has measured its box (a frame after the count).
      let shown = await titles();
      for (let i = 0; i < 50 && JSON.stringify(shown) !== JSON.stringify(expected); i += 1) {
        await page.waitForTimeout(100);
        shown = await titles();
      }
      expect(shown).toEqual(expected);
    };
    // A title word ranks first; then the text, the kind, a lab value, the date as typed or written out.
    await expectFound('knee', ['Knee MRI', 'Physio plan']);
    await expectFound('physiotherapy', ['Knee MRI']);
    await expectFound('lab result', ['Blood count']);
    await expectFound('ferritin', ['Blood count']);
    await expectFound('2025-03', ['Blood count']);
    const march = new Intl.DateTimeFormat(undefined, { month: 'long' }).format(
      new Date(2025, 2, 14),
    );
    await expectFound(`${march} 2025`, ['Blood count']);
    await expectFound('zygomatic', ['Blood count']);
    await screenshots(page, 'search-results');
    // What was searched for never left the browser (nor did the words it found).
    for (const r of captured) {
      const sent = `${decodeURIComponent(r.url)} ${r.body?.toString('latin1') ?? ''}`.toLowerCase();
      expect(sent).not.toContain('zygomatic');
      expect(sent).not.toContain('ferritin');
    }
    await box.fill('');
    await page.getByText(`${total} of ${total} records`, { exact: true }).waitFor();
  });

  it('when a new doctor arrives, then the first steps say how patients find him; his first patient then appears; the header fits 1280 and 390 px', async () => {
    await registerUser(suite.server.baseUrl, doctor);
    const { page: doc, context } = await newDevice(suite.browser, captured);
    await loginAs(doc, suite.server.baseUrl, doctor);
    await go(doc, '/patients');
    const steps = doc.getByRole('region', { name: 'Welcome to Medseal' });
    await steps.getByText(doctor.email).waitFor({ timeout: 60_000 });
    await steps.getByRole('link', { name: 'Settings' }).waitFor();
    await screenshots(doc, 'first-steps-doctor');

    // The navigation: one row at 1280 px; at 390 px every link in view in two rows of three,
    // nothing scrolls sideways, the account's buttons behind "Account".
    const nav = doc.getByRole('navigation', { name: 'Main' });
    const links = nav.getByRole('link');
    expect(await links.allTextContents()).toEqual([
      'Records',
      'Patients',
      'Teams',
      'Contacts',
      'Access log',
      'Settings',
    ]);
    const boxes = async () =>
      Promise.all(
        (await links.all()).map(
          async (l) => (await l.boundingBox()) ?? { x: -1, y: -1, width: 0, height: 0 },
        ),
      );
    expect(new Set((await boxes()).map((b) => b.y)).size).toBe(1);
    expect((await doc.getByRole('banner').boundingBox())?.height).toBeLessThanOrEqual(70);
    await doc.getByRole('button', { name: 'Lock now' }).waitFor();
    await doc.setViewportSize({ width: 390, height: 844 });
    const rows = (await boxes()).map((b) => b.y);
    expect(
      rows.slice(0, 3).every((y) => y === rows[0]) && rows.slice(3).every((y) => y === rows[3]),
    ).toBe(true);
    expect(new Set(rows).size).toBe(2);
    for (const b of await boxes()) {
      expect(b.x).toBeGreaterThanOrEqual(0);
      expect(b.x + b.width).toBeLessThanOrEqual(390);
    }
    expect(await doc.evaluate(() => document.documentElement.scrollWidth)).toBeLessThanOrEqual(390);
    expect((await doc.getByRole('banner').boundingBox())?.height).toBeLessThanOrEqual(130);
    await doc.getByRole('banner').getByText('Unlocked').waitFor();
    expect(await doc.getByRole('button', { name: 'Lock now' }).isVisible()).toBe(false);
    await doc.getByRole('button', { name: 'Account' }).click();
    await doc.getByRole('button', { name: 'Lock now' }).waitFor();
    await doc.screenshot({ path: `${ARTIFACTS}/header-account-open-390.png` });
    await doc.getByRole('button', { name: 'Account' }).click();
    await doc.setViewportSize({ width: 1280, height: 900 });

    // His first patient shares a record: she appears under Patients, the welcome is gone.
    const [first] = await page
      .locator('[data-record-id]')
      .evaluateAll((rows) => rows.map((r) => r.getAttribute('data-record-id')));
    expect(await shareWith(page, first ?? '', doctor)).toBe('shared');
    await go(doc, '/records');
    await go(doc, '/patients');
    await doc
      .getByRole('list', { name: 'Patients' })
      .getByRole('link', { name: patient.name })
      .waitFor({ timeout: 60_000 });
    expect(await steps.count()).toBe(0);
    await screenshots(doc, 'doctor-first-patient');
    await context.close();
  });
});
