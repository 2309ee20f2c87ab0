jest.setTimeout(300_000);
// Issue 14, accessibility: someone who uses only the keyboard registers, writes a record,
// shares it with a doctor and revokes it: Tab to each control, type, Enter or Space. No mouse
// event reaches the page (counted in the page).
import type { Locator, Page } from 'playwright-core';
import { newDevice, screenshots, type CapturedRequest } from './support/browser';
import { browserSuite } from './support/suite';
import type { Account } from './support/app';
import { registerUser } from './support/api';
import { SHARE_WITHOUT_VERIFYING } from './support/victim';

const patient: Account = {
  role: 'patient',
  name: 'Kai Keyboard',
  email: 'kai@example.org',
  password: 'Harbor-Pepper-Quill-93',
};
const doctor: Account = {
  role: 'doctor',
  name: 'Dr Tove Berg',
  email: 'tove@clinic.example',
  password: 'Velvet-Anchor-Maple-25',
};

const suite = browserSuite();
const captured: CapturedRequest[] = [];
const LONG = { timeout: 60_000 };

/** Presses Tab until `target` has focus, as a keyboard user moves through the page. */
async function tabTo(page: Page, target: Locator, max = 80): Promise<void> {
  await target.waitFor(LONG);
  for (let i = 0; i < max; i += 1) {
    if (await target.evaluate((el) => el === document.activeElement)) return;
    await page.keyboard.press('Tab');
  }
  throw new Error(`${max} presses of Tab never reached ${String(target)}`);
}

async function typeInto(page: Page, target: Locator, text: string): Promise<void> {
  await tabTo(page, target);
  await page.keyboard.type(text);
}

describe('keyboard only (issue 14)', () => {
  beforeAll(async () => {
    await registerUser(suite.server.baseUrl, doctor);
  });

  it('when someone uses only the keyboard, then they register, write a record, share it with a doctor and revoke it', async () => {
    const { page, context } = await newDevice(suite.browser, captured);
    await context.addInitScript(() => {
      const w = window as unknown as { pointerEvents: number };
      w.pointerEvents = 0;
      for (const type of ['pointerdown', 'mousedown', 'click']) {
        // A click from the keyboard (Enter, Space) has detail 0; a pointer's has 1 or more.
        window.addEventListener(
          type,
          (e) => {
            if (type !== 'click' || (e as MouseEvent).detail > 0) w.pointerEvents += 1;
          },
          true,
        );
      }
    });
    await page.goto(`${suite.server.baseUrl}/register`);

    // Register (Patient is the default role: Space would pick another).
    await tabTo(page, page.getByRole('radio', { name: 'Patient' }));
    expect(await page.getByRole('radio', { name: 'Patient' }).isChecked()).toBe(true);
    await typeInto(page, page.getByLabel('Full name'), patient.name);
    await typeInto(page, page.getByLabel('Email'), patient.email);
    await typeInto(page, page.getByLabel('Password', { exact: true }), patient.password);
    await typeInto(page, page.getByLabel('Repeat password'), patient.password);
    await tabTo(page, page.getByRole('button', { name: 'Create account' }));
    await page.keyboard.press('Enter');
    await page.getByRole('list', { name: 'Recovery words' }).waitFor(LONG);
    const words = (
      await page.getByRole('list', { name: 'Recovery words' }).locator('li').allTextContents()
    ).map((t) => t.replace(/^\d+\.\s*/, '').trim());
    expect(words).toHaveLength(12);
    for (const field of await page.getByLabel(/^Word \d+$/).all()) {
      const n = Number(
        (
          await page.locator(`label[for="${await field.getAttribute('id')}"]`).textContent()
        )?.replace('Word ', ''),
      );
      await typeInto(page, field, words[n - 1] ?? '');
    }
    await tabTo(page, page.getByRole('checkbox'));
    await page.keyboard.press('Space');
    await tabTo(page, page.getByRole('button', { name: 'I have saved my recovery words' }));
    await page.keyboard.press('Enter');
    await page.getByRole('button', { name: 'Lock now' }).waitFor(LONG);

    // Write the first record.
    await tabTo(page, page.getByRole('link', { name: /new record|first record/i }).first());
    await page.keyboard.press('Enter');
    await typeInto(page, page.getByLabel('Title'), 'Allergy list');
    await typeInto(page, page.getByLabel('Notes'), 'Penicillin: hives');
    await tabTo(page, page.getByRole('button', { name: 'Encrypt and save' }));
    await page.keyboard.press('Enter');
    await page.getByText('Verified: written and signed by you.').waitFor(LONG);

    // Share it with the doctor.
    await tabTo(page, page.getByRole('button', { name: /^Share(…|\.\.\.)?$/ }));
    await page.keyboard.press('Enter');
    await typeInto(page, page.getByLabel(/email/i), doctor.email);
    await page.keyboard.press('Enter');
    await tabTo(page, page.getByRole('button', { name: `Share with ${doctor.name}` }));
    await page.keyboard.press('Enter');
    await tabTo(page, page.getByRole('button', { name: SHARE_WITHOUT_VERIFYING }));
    await page.keyboard.press('Enter');
    const readers = page.getByRole('list', { name: 'Readers' });
    await readers.getByText(doctor.name, { exact: true }).waitFor(LONG);
    await screenshots(page, 'keyboard-shared');
    // Whatever the share step leaves open closes with Escape.
    await page.keyboard.press('Escape');

    // Revoke it.
    await tabTo(page, readers.getByRole('button', { name: /^Revoke/ }));
    await page.keyboard.press('Enter');
    await tabTo(page, page.getByRole('button', { name: `Revoke access for ${doctor.name}` }));
    await page.keyboard.press('Enter');
    await readers.getByText(doctor.name, { exact: true }).waitFor({ state: 'detached', ...LONG });
    await page.getByText('Verified: written and signed by you.').waitFor(LONG);
    await screenshots(page, 'keyboard-revoked');

    expect(
      await page.evaluate(() => (window as unknown as { pointerEvents: number }).pointerEvents),
    ).toBe(0);
    await context.close();
  });
});
