// Attachments (issue 3 §4): binary OpenPGP messages (armoring large data costs ~10×), signed by
// the author, encrypted to the record's recipients, optionally under the record's session key.
import * as openpgp from 'openpgp';
import { CryptoError } from './errors';
import { toBase64Url } from './encoding';
import { loadPublicKeys, type UnlockedKey } from './keys';
import { decryptVerified, type BadSignatureReason, type SessionKey } from './messages';
import { MESSAGE_CONFIG } from './openpgp-config';
import type { Fingerprint } from './types';

/** Largest attachment this package seals or opens. */
export const MAX_FILE_BYTES = 256 * 1024 * 1024;

export interface FileProgress {
  /** Plaintext bytes processed so far. */
  done: number;
  total: number;
}

const CHUNK = 1024 * 1024;

async function sha256(data: Uint8Array): Promise<string> {
  return toBase64Url(new Uint8Array(await globalThis.crypto.subtle.digest('SHA-256', data)));
}

/** A web stream over `data` in 1 MiB chunks that reports how far the consumer has read. */
function progressStream(data: Uint8Array, onProgress: (p: FileProgress) => void): ReadableStream<Uint8Array> {
  let offset = 0;
  return new ReadableStream<Uint8Array>({
    pull(controller) {
      if (offset >= data.length) {
        controller.close();
        return;
      }
      const end = Math.min(offset + CHUNK, data.length);
      controller.enqueue(data.subarray(offset, end));
      offset = end;
      onProgress({ done: offset, total: data.length });
    },
  });
}

async function collect(stream: ReadableStream<Uint8Array>): Promise<Uint8Array> {
  const reader = stream.getReader();
  const parts: Uint8Array[] = [];
  let length = 0;
  for (;;) {
    const { done, value } = await reader.read();
    if (done) break;
    parts.push(value);
    length += value.length;
  }
  const out = new Uint8Array(length);
  let pos = 0;
  for (const p of parts) {
    out.set(p, pos);
    pos += p.length;
  }
  return out;
}

/**
 * Seals an attachment. Returns the binary message and the SHA-256 (base64url) of the plaintext,
 * which the record envelope should carry so readers can bind the file to the record.
 * @throws CryptoError `invalid-argument`, and the `readPublicKey` codes for recipient keys.
 */
export async function sealFile(opts: {
  data: Uint8Array;
  authorKey: UnlockedKey;
  recipientKeys: string[];
  sessionKey?: SessionKey;
  onProgress?: (progress: FileProgress) => void;
}): Promise<{ message: Uint8Array; sha256: string }> {
  if (!(opts.data instanceof Uint8Array)) throw new CryptoError('invalid-argument', 'data must be a Uint8Array');
  if (opts.data.length > MAX_FILE_BYTES) throw new CryptoError('invalid-argument', `attachments are limited to ${MAX_FILE_BYTES} bytes`);
  if (opts.recipientKeys.length === 0) throw new CryptoError('invalid-argument', 'an attachment needs at least one recipient');
  const [keys, digest] = await Promise.all([loadPublicKeys(opts.recipientKeys), sha256(opts.data)]);
  const sessionKey = opts.sessionKey ? { sessionKey: { data: opts.sessionKey.data, algorithm: opts.sessionKey.algorithm } } : {};
  const base = { encryptionKeys: keys, signingKeys: opts.authorKey.key, ...sessionKey, config: MESSAGE_CONFIG };
  let message: Uint8Array;
  if (opts.onProgress) {
    const onProgress = opts.onProgress;
    onProgress({ done: 0, total: opts.data.length });
    const input = await openpgp.createMessage({ binary: progressStream(opts.data, onProgress), format: 'binary' });
    const output = await openpgp.encrypt({ ...base, message: input, format: 'binary' });
    message = await collect(output as unknown as ReadableStream<Uint8Array>);
  } else {
    const input = await openpgp.createMessage({ binary: opts.data, format: 'binary' });
    message = await openpgp.encrypt({ ...base, message: input, format: 'binary' });
  }
  return { message, sha256: digest };
}

export type OpenFileResult =
  | { status: 'verified'; data: Uint8Array; signedAt: Date }
  | { status: 'unknown-author-key'; reason: 'signed-by-another-key' | 'author-key-mismatch' | 'unreadable-author-key' }
  | { status: 'bad-signature'; reason: BadSignatureReason }
  | { status: 'context-mismatch'; mismatches: ['sha256'] }
  | { status: 'not-for-me' };

/**
 * Opens an attachment: decrypt, require exactly one valid signature by the author, and (when
 * `expectSha256` from the verified record envelope is given) require the plaintext to match it.
 * Progress is reported at start and end (decryption is not streamed, so nothing unverified is
 * ever released).
 */
export async function openFile(opts: {
  message: Uint8Array;
  myKey: UnlockedKey;
  authorPublicKey: string;
  authorFingerprint?: Fingerprint;
  expectSha256?: string;
  onProgress?: (progress: FileProgress) => void;
}): Promise<OpenFileResult> {
  if (!(opts.message instanceof Uint8Array)) return { status: 'bad-signature', reason: 'malformed' };
  opts.onProgress?.({ done: 0, total: opts.message.length });
  const outcome = await decryptVerified({
    message: opts.message,
    myKey: opts.myKey,
    authorPublicKey: opts.authorPublicKey,
    ...(opts.authorFingerprint ? { authorFingerprint: opts.authorFingerprint } : {}),
    maxBytes: MAX_FILE_BYTES + 64 * 1024,
  });
  if (outcome.status !== 'ok') return outcome;
  if (opts.expectSha256 !== undefined && (await sha256(outcome.data)) !== opts.expectSha256) {
    return { status: 'context-mismatch', mismatches: ['sha256'] };
  }
  opts.onProgress?.({ done: opts.message.length, total: opts.message.length });
  return { status: 'verified', data: outcome.data, signedAt: outcome.signedAt };
}
