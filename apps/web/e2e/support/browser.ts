import { mkdirSync } from 'node:fs';
import { join } from 'node:path';
import { chromium, type Browser, type BrowserContext, type Page } from 'playwright-core';

/** Debian's Chromium; CI installs the same package. */
export const CHROMIUM = process.env.CHROMIUM_PATH ?? '/usr/bin/chromium';
const ARGS = [
  '--headless',
  '--no-sandbox',
  '--disable-gpu',
  '--disable-quic',
  '--no-first-run',
  '--disable-background-networking',
  '--disable-component-update',
  '--disable-sync',
];

// cwd is apps/web for jest and the bench (both run by pnpm in the package folder).
export const ARTIFACTS = join(process.cwd(), 'e2e-artifacts');

/** Chromium as the suites use it; `extraArgs` e.g. for a fake camera (e2e/support/camera.ts). */
export function launchBrowser(extraArgs: string[] = []): Promise<Browser> {
  return chromium.launch({
    executablePath: CHROMIUM,
    args: [...ARGS, ...extraArgs],
    headless: true,
  });
}

/** Uncaught errors in any page; the suites assert there are none. */
export const pageErrors: string[] = [];

export interface CapturedRequest {
  url: string;
  method: string;
  headers: Record<string, string>;
  body: Buffer | null;
}

/**
 * A fresh context (own cookies, storage, IndexedDB: a different device) that records every
 * request the page or its workers send, bodies included.
 */
export async function newDevice(
  browser: Browser,
  captured: CapturedRequest[],
  width = 1280,
): Promise<{ context: BrowserContext; page: Page }> {
  const context = await browser.newContext({
    viewport: { width, height: 900 },
    acceptDownloads: true,
  });
  context.on('request', (request) => {
    captured.push({
      url: request.url(),
      method: request.method(),
      headers: request.headers(),
      body: request.postDataBuffer(),
    });
  });
  const page = await context.newPage();
  page.on('pageerror', (e) => pageErrors.push(e.stack ?? e.message));
  const trail: string[] = [];
  const note = (line: string) => {
    trail.push(`${new Date().toISOString().slice(11, 23)} ${line.slice(0, 300)}`);
    if (trail.length > TRAIL_LINES) trail.shift();
  };
  page.on('console', (m) => {
    if (['error', 'warning', 'log', 'info'].includes(m.type()))
      note(`console.${m.type()}: ${m.text()}`);
  });
  page.on('framenavigated', (frame) => {
    if (frame === page.mainFrame()) note(`at ${frame.url()}`);
  });
  page.on('requestfailed', (r) =>
    note(`failed ${r.method()} ${r.url()}: ${r.failure()?.errorText}`),
  );
  page.on('response', (r) => {
    if (r.status() < 400) return;
    note(`HTTP ${r.status()} ${r.request().method()} ${r.url()}`);
    if (process.env.E2E_DEBUG)
      void r
        .text()
        .then((t) =>
          console.warn(`HTTP ${r.status()} ${r.request().method()} ${r.url()} ${t.slice(0, 300)}`),
        );
  });
  openPages.set(page, trail);
  page.on('close', () => openPages.delete(page));
  return { context, page };
}

/** The last lines each open page logged (addresses, console, failed requests, HTTP errors), for failures. */
const openPages = new Map<Page, string[]>();
const TRAIL_LINES = 40;

/**
 * What every open page shows, for a failed test (e2e/support/environment.cjs calls it): its
 * address, the focused element, open dialogs, disabled buttons, the start of its text, its
 * recent trail, and a screenshot in e2e-artifacts/. A failure then says what the page was
 * doing, not only which wait ran out.
 */
export async function describeOpenPages(testName: string): Promise<void> {
  const slug = testName.replace(/[^a-z0-9]+/gi, '-').slice(0, 60);
  let n = 0;
  for (const [page, trail] of openPages) {
    n += 1;
    const state = await page
      .evaluate(() => {
        const describe = (e: Element | null) =>
          e ? `${e.tagName.toLowerCase()} "${(e.textContent ?? '').trim().slice(0, 60)}"` : 'none';
        return {
          url: location.href,
          focused: describe(document.activeElement),
          dialogs: [...document.querySelectorAll('dialog[open]')].map(describe),
          disabledButtons: [...document.querySelectorAll('button:disabled')].map(describe),
          text: document.body.innerText.slice(0, 1500),
        };
      })
      .catch((e: unknown) => ({ unavailable: String(e) }));
    mkdirSync(ARTIFACTS, { recursive: true });
    const shot = join(ARTIFACTS, `failure-${slug}-page${n}.png`);
    await page.screenshot({ path: shot, fullPage: true, timeout: 10_000 }).catch(() => undefined);
    console.error(
      `page ${n} when "${testName}" failed (screenshot ${shot}):\n` +
        `${JSON.stringify(state, null, 2)}\nlast events:\n${trail.join('\n')}`,
    );
  }
}

/** Screenshots at desktop (1280) and phone (390) widths into e2e-artifacts/. */
export async function screenshots(page: Page, name: string): Promise<void> {
  mkdirSync(ARTIFACTS, { recursive: true });
  const original = page.viewportSize() ?? { width: 1280, height: 900 };
  for (const width of [1280, 390]) {
    await page.setViewportSize({ width, height: width === 390 ? 844 : 900 });
    await page.waitForTimeout(150);
    await page.screenshot({ path: join(ARTIFACTS, `${name}-${width}.png`), fullPage: true });
  }
  await page.setViewportSize(original);
}
