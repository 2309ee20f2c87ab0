import { randomBytes } from 'node:crypto';

/**
 * A connection string to a fresh, uniquely named database on the server started by the
 * jest global setup. Call once per test file.
 * @throws when the global setup did not run.
 */
export function freshTestDatabaseUri(label = 'test'): string {
  const base = process.env.MEDSEAL_TEST_MONGODB_URI;
  if (!base)
    throw new Error('MEDSEAL_TEST_MONGODB_URI is not set: add @medseal/devdb/jest-global-setup');
  const url = new URL(base);
  const safe = label.replace(/[^a-z0-9]/gi, '_').slice(0, 24);
  url.pathname = `/${safe}_${randomBytes(6).toString('hex')}`;
  return url.toString();
}
