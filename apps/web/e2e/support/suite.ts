import type { Browser } from 'playwright-core';
import { startTestServer, type TestServer, type TestServerOptions } from '@medseal/server/testing';
import { WEB_DIST } from './app';
import { launchBrowser, pageErrors } from './browser';

export interface BrowserSuite {
  readonly server: TestServer;
  readonly browser: Browser;
}

/**
 * Registers hooks that start the real server (serving the built app, on a fresh database) and
 * Chromium before the suite, and stop both after it; the suite fails if any page threw.
 * Read the fields inside tests or hooks, once the suite has started.
 * @throws Error when a field is read before the suite started.
 */
export function browserSuite(serverSettings: TestServerOptions['settings'] = {}): BrowserSuite {
  let server: TestServer | undefined;
  let browser: Browser | undefined;
  beforeAll(async () => {
    server = await startTestServer({ webDist: WEB_DIST, settings: serverSettings });
    browser = await launchBrowser();
  });
  afterAll(async () => {
    // Stopped first: a failed check must fail the suite, not leave them holding the run open.
    await browser?.close();
    await server?.close();
    expect(pageErrors).toEqual([]);
  });
  const started = <T>(value: T | undefined, name: string): T => {
    if (value === undefined)
      throw new Error(`the suite's ${name} is not started yet: read it inside a test`);
    return value;
  };
  return {
    get server() {
      return started(server, 'server');
    },
    get browser() {
      return started(browser, 'browser');
    },
  };
}
