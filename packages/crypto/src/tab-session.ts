// "Stay unlocked in this tab" (DESIGN §4): the unlocked key is re-locked under a fresh random
// secret, and that secret is encrypted with a NON-EXTRACTABLE WebCrypto AES-GCM key. The app keeps
// the CryptoKey and the sealed blob in IndexedDB (a CryptoKey survives structured cloning without
// ever exposing its bytes) and deletes both on logout and tab close. Script that can read
// IndexedDB can use the key while the tab is open, but cannot carry it away.
import { CryptoError } from './errors';
import { bufferSource, fromBase64Url, randomBytes, toBase64Url } from './encoding';
import type { UnlockedKey } from './keys';
import { lockPrivateKey, unlockPrivateKey } from './protect';

/** A WebCrypto CryptoKey (spelled this way so the type resolves under both DOM and Node typings). */
export type TabWrappingKey = Awaited<ReturnType<typeof globalThis.crypto.subtle.importKey>>;

/** Versioned stored format (STYLE.md §12). */
export interface TabSealedKey {
  v: 1;
  lockedKey: string;
  iv: string;
  wrappedSecret: string;
}

/** A fresh non-extractable AES-256-GCM key for one tab. */
export async function createTabWrappingKey(): Promise<TabWrappingKey> {
  return (await globalThis.crypto.subtle.generateKey({ name: 'AES-GCM', length: 256 }, false, [
    'encrypt',
    'decrypt',
  ])) as TabWrappingKey;
}

/** Seals an unlocked key for this tab under `wrappingKey`. */
export async function sealKeyForTab(opts: {
  privateKey: UnlockedKey;
  wrappingKey: TabWrappingKey;
}): Promise<TabSealedKey> {
  const secret = randomBytes(32);
  try {
    const lockedKey = await lockPrivateKey({ privateKey: opts.privateKey, secret });
    const iv = randomBytes(12);
    const wrapped = new Uint8Array(
      await globalThis.crypto.subtle.encrypt(
        { name: 'AES-GCM', iv: bufferSource(iv) },
        opts.wrappingKey,
        bufferSource(secret),
      ),
    );
    return { v: 1, lockedKey, iv: toBase64Url(iv), wrappedSecret: toBase64Url(wrapped) };
  } finally {
    secret.fill(0);
  }
}

/**
 * Opens a tab-sealed key.
 * @throws CryptoError `unsupported-format` (unknown version), `wrong-key-secret` (another tab's
 * key, or tampered), `invalid-argument` (malformed).
 */
export async function openKeyForTab(opts: {
  sealed: TabSealedKey;
  wrappingKey: TabWrappingKey;
}): Promise<UnlockedKey> {
  const s = opts.sealed as Partial<TabSealedKey> | null;
  if (!s || typeof s !== 'object')
    throw new CryptoError('invalid-argument', 'sealed tab key missing');
  if (s.v !== 1)
    throw new CryptoError(
      'unsupported-format',
      `sealed tab key format v${String(s.v)} is not supported`,
    );
  const iv = typeof s.iv === 'string' ? fromBase64Url(s.iv) : null;
  const wrapped = typeof s.wrappedSecret === 'string' ? fromBase64Url(s.wrappedSecret) : null;
  if (!iv || iv.length !== 12 || !wrapped || typeof s.lockedKey !== 'string')
    throw new CryptoError('invalid-argument', 'sealed tab key is malformed');
  let secret: Uint8Array;
  try {
    secret = new Uint8Array(
      await globalThis.crypto.subtle.decrypt(
        { name: 'AES-GCM', iv: bufferSource(iv) },
        opts.wrappingKey,
        bufferSource(wrapped),
      ),
    );
  } catch (cause) {
    throw new CryptoError('wrong-key-secret', 'this tab key cannot open the sealed key', { cause });
  }
  try {
    return await unlockPrivateKey({ lockedKey: s.lockedKey, secret });
  } finally {
    secret.fill(0);
  }
}
