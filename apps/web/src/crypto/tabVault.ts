import type { CryptoClient, KeyRef } from './client';

/**
 * "Stay unlocked in this tab" (DESIGN §4). The private key is locked again under a fresh
 * random secret (the worker's recovery-key generator: 128 random bits as 12 words); those
 * words are encrypted with a non-extractable AES-GCM key kept in IndexedDB, and the ciphertexts
 * (never a secret in the clear) go to sessionStorage, which belongs to this tab and disappears
 * when it closes. A reload can then unlock without the password; another tab, or anyone reading
 * the disk after the tab closed, finds only ciphertext whose key cannot be exported.
 * Nothing goes to localStorage.
 */
const STORAGE_KEY = 'medseal.tab-unlock';
const DB_NAME = 'medseal-tab-keys';
const STORE = 'keys';

interface Stored {
  v: 1;
  tabId: string;
  userId: string;
  fingerprint: string;
  iv: string;
  wordsCiphertext: string;
  lockedKey: string;
}

const b64 = (bytes: Uint8Array) => btoa(String.fromCharCode(...bytes));
const unb64 = (text: string) => Uint8Array.from(atob(text), (c) => c.charCodeAt(0));

function openDb(): Promise<IDBDatabase> {
  return new Promise((resolve, reject) => {
    const req = indexedDB.open(DB_NAME, 1);
    req.onupgradeneeded = () => req.result.createObjectStore(STORE);
    req.onsuccess = () => resolve(req.result);
    req.onerror = () => reject(req.error ?? new Error('IndexedDB unavailable'));
  });
}

async function idb<T>(mode: IDBTransactionMode, run: (store: IDBObjectStore) => IDBRequest): Promise<T> {
  const db = await openDb();
  try {
    return await new Promise<T>((resolve, reject) => {
      const req = run(db.transaction(STORE, mode).objectStore(STORE));
      req.onsuccess = () => resolve(req.result as T);
      req.onerror = () => reject(req.error ?? new Error('IndexedDB request failed'));
    });
  } finally {
    db.close();
  }
}

export async function rememberInTab(crypto: CryptoClient, key: KeyRef, userId: string): Promise<void> {
  const { words, secretHandle } = await crypto.createRecoveryKey();
  let lockedKey: string;
  try {
    lockedKey = await crypto.lockKey({ keyHandle: key.handle, secretHandle });
  } finally {
    await crypto.forget(secretHandle);
  }
  const aes = await globalThis.crypto.subtle.generateKey({ name: 'AES-GCM', length: 256 }, false, ['encrypt', 'decrypt']);
  const iv = globalThis.crypto.getRandomValues(new Uint8Array(12));
  const ciphertext = new Uint8Array(await globalThis.crypto.subtle.encrypt({ name: 'AES-GCM', iv }, aes, new TextEncoder().encode(words.join(' '))));
  const tabId = b64(globalThis.crypto.getRandomValues(new Uint8Array(12)));
  const previous = sessionStorage.getItem(STORAGE_KEY);
  if (previous) await idb('readwrite', (s) => s.delete((JSON.parse(previous) as Stored).tabId));
  await idb('readwrite', (s) => s.put(aes, tabId));
  const stored: Stored = { v: 1, tabId, userId, fingerprint: key.fingerprint, iv: b64(iv), wordsCiphertext: b64(ciphertext), lockedKey };
  sessionStorage.setItem(STORAGE_KEY, JSON.stringify(stored));
}

/** Unlocks from this tab's storage, or returns null when there is nothing (or it is unusable). */
export async function restoreFromTab(crypto: CryptoClient, expect: { userId: string; fingerprint: string }): Promise<KeyRef | null> {
  const raw = sessionStorage.getItem(STORAGE_KEY);
  if (!raw) return null;
  const stored = JSON.parse(raw) as Stored;
  if (stored.v !== 1 || stored.userId !== expect.userId || stored.fingerprint !== expect.fingerprint) {
    await forgetTab();
    return null;
  }
  const aes = await idb<CryptoKey | undefined>('readonly', (s) => s.get(stored.tabId));
  if (!aes) return null;
  const words = new TextDecoder().decode(await globalThis.crypto.subtle.decrypt({ name: 'AES-GCM', iv: unb64(stored.iv) }, aes, unb64(stored.wordsCiphertext)));
  const secretHandle = await crypto.recoverySecretFromWords(words);
  try {
    const key = await crypto.unlockWithSecret({ secretHandle, encryptedPrivateKey: stored.lockedKey });
    if (key.fingerprint !== expect.fingerprint) throw new Error('the remembered key is not this account’s key');
    return key;
  } finally {
    await crypto.forget(secretHandle);
  }
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
