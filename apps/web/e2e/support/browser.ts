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
  page.on('response', (r) => {
    if (process.env.E2E_DEBUG && r.status() >= 400)
      void r
        .text()
        .then((t) =>
          console.warn(`HTTP ${r.status()} ${r.request().method()} ${r.url()} ${t.slice(0, 300)}`),
        );
  });
  return { context, page };
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
