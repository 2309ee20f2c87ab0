jest.setTimeout(300_000);
// Issue 14's everyday features for a patient and a doctor in real Chromium: search of decrypted
// records, first steps and empty states, the header at 1280 and 390 px.
import type { Page } from 'playwright-core';
import { newDevice, screenshots, type CapturedRequest } from './support/browser';
import { browserSuite } from './support/suite';
import { createNote, go, loginAs, type Account } from './support/app';
import { registerUser } from './support/api';

const patient: Account = {
  role: 'patient',
  name: 'Ines Patient',
  email: 'ines@example.org',
  password: 'Lantern-Meadow-Copper-58',
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
  beforeAll(async () => {
    await registerUser(suite.server.baseUrl, patient);
    ({ page } = await newDevice(suite.browser, captured));
    await loginAs(page, suite.server.baseUrl, patient);
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
    const box = page.getByRole('searchbox', { name: 'Search records' });
    const titles = async () =>
      (await list.locator('[data-record-id] > span:first-child').allTextContents()).map((t) =>
        t.replace(/\s*New$/, '').trim(),
      );
    const expectFound = async (query: string, expected: string[]) => {
      await box.fill(query);
      await page
        .getByText(`${expected.length} of 3 records match “${query}”`, { exact: true })
        .waitFor({ timeout: 30_000 });
      expect(await titles()).toEqual(expected);
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
    await page.getByText('3 of 3 records', { exact: true }).waitFor();
  });
});
