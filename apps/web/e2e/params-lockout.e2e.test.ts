import { newDevice, type CapturedRequest } from './support/browser';
import { registerUser } from './support/api';
import { browserSuite } from './support/suite';
import { loginAs, type Account } from './support/app';

// Issue 15, finding 3: a page on another site fires pre-login requests at the victim's email
// (image tags and no-cors fetches, which cannot send the CSRF header), then she logs in.
const suite = browserSuite();
const captured: CapturedRequest[] = [];
const victim: Account = {
  role: 'patient',
  name: 'Vera Victim',
  email: 'vera-victim@example.org',
  password: 'Copper-Meadow-Falcon-29',
};
// Another origin on the same machine (Chromium keeps public sites from reaching loopback
// addresses at all; a site on the local network may).
const attacker = () => `http://localhost:${new URL(suite.server.baseUrl).port}`;

describe('lock-out from another site (real Chromium)', () => {
  it('when a page on another origin fires 120 pre-login requests at her email, then she still logs in (they need the CSRF header and never count against her account)', async () => {
    await registerUser(suite.server.baseUrl, victim);
    const { page } = await newDevice(suite.browser, captured);
    const target = `${suite.server.baseUrl}/api/auth/params?email=${encodeURIComponent(victim.email)}`;
    await page.route(`${attacker()}/cats`, (route) =>
      route.fulfill({
        contentType: 'text/html',
        body: `<!doctype html><title>cats</title><script>
          const target = ${JSON.stringify(target)};
          window.done = Promise.all(Array.from({ length: 120 }, (_, i) => i % 2
            ? fetch(target + '&n=' + i, { mode: 'no-cors' }).catch(() => undefined)
            : new Promise((r) => { const img = new Image(); img.onload = img.onerror = r; img.src = target + '&n=' + i; })));
        </script>`,
      }),
    );
    // The answers are not readable cross-origin (CORP), but every request reaches the server.
    let sent = 0;
    page.on('request', (r) => {
      if (r.url().startsWith(target)) sent += 1;
    });
    await page.goto(`${attacker()}/cats`);
    await page.evaluate(() => (window as unknown as { done: Promise<unknown> }).done);
    expect(sent).toBe(120);
    await loginAs(page, suite.server.baseUrl, victim);
  });
});
