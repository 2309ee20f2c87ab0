// Shared test helpers: fixture files and a few freshly made user keys.
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { generateUserKey, type GeneratedUserKey } from '../src';

export function fixture(name: string): string {
  return readFileSync(join(__dirname, 'fixtures', name), 'utf8');
}

export function binaryFixture(name: string): Uint8Array {
  return new Uint8Array(readFileSync(join(__dirname, 'fixtures', name)));
}

export function makeUser(name: string): Promise<GeneratedUserKey> {
  return generateUserKey({ name, email: `${name.toLowerCase()}@example.org` });
}

/** Awaits `promise` and returns the error's `code`, failing when it resolves. */
export async function codeOf(promise: Promise<unknown>): Promise<string> {
  try {
    await promise;
  } catch (error) {
    return (error as { code?: string }).code ?? `no code: ${String(error)}`;
  }
  throw new Error('expected a rejection, but it resolved');
}

/** The unprotected fixture key `good` as an UnlockedKey (test-only key). */
export async function goodKey() {
  const { parsePrivateKey, wrapUnlocked } = await import('../src/keys');
  return wrapUnlocked(await parsePrivateKey(fixture('good.sec.asc')));
}

export const sampleEnvelope = {
  recordId: 'rec-sec' as import('../src').RecordId,
  version: 5,
  ownerId: 'u-owner' as import('../src').UserId,
  authorId: 'u-author' as import('../src').UserId,
  createdAt: '2026-11-27T11:00:00.000Z',
  content: { kind: 'letter', title: 'Discharge summary', body: 'Confidential.' },
};
