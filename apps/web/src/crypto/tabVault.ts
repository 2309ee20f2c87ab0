import type { CryptoClient, KeyRef } from './client';

/**
 * "Stay unlocked in this tab" (DESIGN §4). The worker re-locks the private key under a fresh
 * random secret and wraps that secret with a non-extractable AES-GCM key it made
 * (`createTabWrappingKey` / `sealKeyForTab`); the CryptoKey goes to IndexedDB, the sealed
 * blob (ciphertext only) to sessionStorage, which belongs to this tab and disappears when it
 * closes. A reload can then unlock without the password; no secret ever passes through the
 * UI thread, and anyone reading the disk finds only ciphertext whose key cannot be exported.
 * Nothing goes to localStorage.
 */
import type { TabSealedKey } from '@medseal/crypto';
import { request, withStore } from '../app/indexedDb';
const STORAGE_KEY = 'medseal.tab-unlock';
const DB = { name: 'medseal-tab-keys', store: 'keys' };

interface Stored {
  v: 1;
  tabId: string;
  userId: string;
  fingerprint: string;
  sealed: TabSealedKey;
}

const newTabId = () =>
  btoa(String.fromCharCode(...globalThis.crypto.getRandomValues(new Uint8Array(12))));

/** One request on the store of remembered wrapping keys. */
function idb<T>(mode: IDBTransactionMode, run: (store: IDBObjectStore) => IDBRequest): Promise<T> {
  return withStore(DB, mode, (store) => request(run(store)) as Promise<T>);
}

export async function rememberInTab(
  crypto: CryptoClient,
  key: KeyRef,
  userId: string,
): Promise<void> {
  const wrappingKey = await crypto.createTabWrappingKey();
  const sealed = await crypto.sealKeyForTab({ keyHandle: key.handle, wrappingKey });
  const tabId = newTabId();
  const previous = sessionStorage.getItem(STORAGE_KEY);
  if (previous) await idb('readwrite', (s) => s.delete((JSON.parse(previous) as Stored).tabId));
  await idb('readwrite', (s) => s.put(wrappingKey, tabId));
  const stored: Stored = { v: 1, tabId, userId, fingerprint: key.fingerprint, sealed };
  sessionStorage.setItem(STORAGE_KEY, JSON.stringify(stored));
}

/**
 * True when this page was loaded by a reload. A tab the browser brings back ("reopen closed
 * tab", session restore) gets its sessionStorage back too, but its navigation is not a reload
 * (issue 15, finding 7).
 */
function isReload(): boolean {
  const [entry] = performance.getEntriesByType('navigation') as PerformanceNavigationTiming[];
  return entry?.type === 'reload';
}

/** Removes this tab's remembered key only (other tabs keep theirs). */
async function forgetThisTab(stored: Stored): Promise<void> {
  sessionStorage.removeItem(STORAGE_KEY);
  await idb('readwrite', (s) => s.delete(stored.tabId)).catch(() => undefined);
}

/**
 * Unlocks from this tab's storage, or returns null when there is nothing (or it is unusable).
 * Only a reload unlocks: on any other load (a closed tab brought back, the address typed
 * again) what this tab remembered is deleted and the password is asked for.
 */
export async function restoreFromTab(
  crypto: CryptoClient,
  expect: { userId: string; fingerprint: string },
): Promise<KeyRef | null> {
  const raw = sessionStorage.getItem(STORAGE_KEY);
  if (!raw) return null;
  const stored = JSON.parse(raw) as Stored;
  if (!isReload()) {
    await forgetThisTab(stored);
    return null;
  }
  if (
    stored.v !== 1 ||
    stored.userId !== expect.userId ||
    stored.fingerprint !== expect.fingerprint
  ) {
    await forgetTab();
    return null;
  }
  const wrappingKey = await idb<CryptoKey | undefined>('readonly', (s) => s.get(stored.tabId));
  if (!wrappingKey) return null;
  const key = await crypto.openKeyForTab({ sealed: stored.sealed, wrappingKey });
  if (key.fingerprint !== expect.fingerprint) {
    await crypto.forget(key.handle);
    throw new Error('the remembered key is not this account’s key');
  }
  return key;
}

/** Logout / lock now: remove this tab's remembered key (and any left by closed tabs). */
export async function forgetTab(): Promise<void> {
  sessionStorage.removeItem(STORAGE_KEY);
  try {
    await idb('readwrite', (s) => s.clear());
  } catch {
    // no IndexedDB (private mode): nothing was stored there
  }
}
