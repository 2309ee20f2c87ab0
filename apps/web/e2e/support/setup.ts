import { describeOpenPages } from './browser';

jest.setTimeout(300_000);

// e2e/support/environment.cjs calls it when a test fails.
Object.assign(globalThis, { __describeOpenPages: describeOpenPages });
