import { newDevice, type CapturedRequest } from './support/browser';
import { registerUser } from './support/api';
import { browserSuite } from './support/suite';
import { loginAs, type Account } from './support/app';

// Issue 15, finding 7: "stay unlocked in this tab" must end with the tab. Browsers give a
// closed tab its sessionStorage back when it is reopened; the key that unwraps it sits in
// IndexedDB. Playwright cannot press "reopen closed tab", so a new tab is given the closed
// tab's sessionStorage before the app starts: what the browser does on reopen.
const suite = browserSuite();
const captured: CapturedRequest[] = [];
const eve: Account = {
  role: 'patient',
  name: 'Eve Tab',
  email: 'eve-tab@example.org',
  password: 'Harbor-Lantern-Quartz-83',
};

const tabKeysIn = (page: import('playwright-core').Page) =>
  page.evaluate(
    () =>
      new Promise<number>((resolve, reject) => {
        const open = indexedDB.open('medseal-tab-keys', 1);
        open.onupgradeneeded = () => open.result.createObjectStore('keys');
        open.onerror = () => reject(open.error ?? new Error('IndexedDB'));
        open.onsuccess = () => {
          const count = open.result.transaction('keys', 'readonly').objectStore('keys').count();
          count.onsuccess = () => {
            open.result.close();
            resolve(count.result);
          };
          count.onerror = () => reject(count.error ?? new Error('IndexedDB'));
        };
      }),
  );

describe('stay unlocked in this tab (real Chromium)', () => {
  it('when a tab that stayed unlocked is closed and brought back, then it asks for the password and its remembered key is deleted; a reload still keeps it', async () => {
    await registerUser(suite.server.baseUrl, eve);
    const { context, page } = await newDevice(suite.browser, captured);
    await loginAs(page, suite.server.baseUrl, eve, { stayUnlocked: true });
    await page.reload();
    await page.getByRole('button', { name: 'Lock now' }).waitFor({ timeout: 30_000 });
    expect(await tabKeysIn(page)).toBe(1);

    const tabStorage = await page.evaluate(() =>
      JSON.stringify(Object.fromEntries(Object.entries(sessionStorage))),
    );
    await page.close();
    const reopened = await context.newPage();
    await reopened.addInitScript((saved: string) => {
      if (sessionStorage.length === 0 && !('medseal-test-restored' in window)) {
        Object.assign(window, { 'medseal-test-restored': true });
        for (const [k, v] of Object.entries(JSON.parse(saved) as Record<string, string>))
          sessionStorage.setItem(k, v);
      }
    }, tabStorage);
    await reopened.goto(`${suite.server.baseUrl}/records`);
    await reopened.getByRole('heading', { name: 'Unlock Medseal' }).waitFor({ timeout: 30_000 });
    expect(await reopened.evaluate(() => sessionStorage.getItem('medseal.tab-unlock'))).toBeNull();
    expect(await tabKeysIn(reopened)).toBe(0);
  });
});
