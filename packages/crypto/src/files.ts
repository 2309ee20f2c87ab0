// Attachments (issue 3 §4): binary OpenPGP messages (armoring large data costs ~10×), signed by
// the author, encrypted to the record's recipients, optionally under the record's session key.
import * as openpgp from 'openpgp';
import { CryptoError } from './errors';
import { bufferSource, toBase64Url, utf8 } from './encoding';
import { encryptToKeys, type UnlockedKey } from './keys';
import { decryptVerified, type BadSignatureReason, type SessionKey } from './messages';
import { MESSAGE_CONFIG } from './openpgp-config';
import { padFile, unpadFile } from './padding';
import { collect, progressStream } from './streams';
import type { Fingerprint } from './types';

/** Largest attachment this package seals or opens. */
export const MAX_FILE_BYTES = 256 * 1024 * 1024;

export interface FileProgress {
  /** Bytes processed so far: plaintext when sealing, ciphertext when opening. */
  done: number;
  total: number;
}

async function sha256(data: Uint8Array): Promise<string> {
  return toBase64Url(
    new Uint8Array(await globalThis.crypto.subtle.digest('SHA-256', bufferSource(data))),
  );
}

const KEY_COMMITMENT_LABEL = 'medseal file key commitment v1';

/**
 * The key commitment of an attachment (DESIGN §12 "Attachments"): SHA-256 (base64url) over a
 * label, the file id and the file's session key (algorithm + key bytes), each length-prefixed.
 * The signed record content names it beside the file id, so a sharer re-wraps a file's session
 * key only if it is the one the author sealed that file with: a server that serves another
 * record's packets under this file id is caught before anything is encrypted to the grantee.
 * @throws CryptoError `invalid-argument` for an empty file id.
 */
export async function commitFileKey(opts: {
  fileId: string;
  sessionKey: { data: Uint8Array; algorithm: string };
}): Promise<string> {
  if (typeof opts.fileId !== 'string' || opts.fileId === '')
    throw new CryptoError('invalid-argument', 'fileId must be a non-empty string');
  const parts = [
    utf8(KEY_COMMITMENT_LABEL),
    utf8(opts.fileId),
    utf8(opts.sessionKey.algorithm),
    opts.sessionKey.data,
  ];
  const total = parts.reduce((n, p) => n + 4 + p.length, 0);
  const input = new Uint8Array(total);
  const view = new DataView(input.buffer);
  let at = 0;
  for (const part of parts) {
    view.setUint32(at, part.length);
    input.set(part, at + 4);
    at += 4 + part.length;
  }
  return sha256(input);
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
  if (!(opts.data instanceof Uint8Array))
    throw new CryptoError('invalid-argument', 'data must be a Uint8Array');
  if (opts.data.length > MAX_FILE_BYTES)
    throw new CryptoError('invalid-argument', `attachments are limited to ${MAX_FILE_BYTES} bytes`);
  if (opts.recipientKeys.length === 0)
    throw new CryptoError('invalid-argument', 'an attachment needs at least one recipient');
  // The digest runs natively (WebCrypto) alongside the encryption instead of before it.
  const digest = sha256(opts.data);
  digest.catch(() => undefined);
  const sessionKey = opts.sessionKey
    ? { sessionKey: { data: opts.sessionKey.data, algorithm: opts.sessionKey.algorithm } }
    : {};
  // Padded like records (Padmé), so the stored size says little about the file's (padding.ts).
  const padded = padFile(opts.data);
  const total = opts.data.length;
  const message = await encryptToKeys(opts.recipientKeys, async (keys) => {
    const base = {
      encryptionKeys: keys,
      signingKeys: opts.authorKey.key,
      ...sessionKey,
      config: MESSAGE_CONFIG,
    };
    if (opts.onProgress) {
      const onProgress = opts.onProgress;
      onProgress({ done: 0, total });
      // Progress in the caller's bytes: the padding after them counts as done.
      const input = await openpgp.createMessage({
        binary: progressStream(padded, (done) =>
          onProgress({ done: Math.min(done, total), total }),
        ),
        format: 'binary',
      });
      const output = await openpgp.encrypt({ ...base, message: input, format: 'binary' });
      return collect(output as unknown as ReadableStream<Uint8Array>);
    }
    const input = await openpgp.createMessage({ binary: padded, format: 'binary' });
    return openpgp.encrypt({ ...base, message: input, format: 'binary' });
  });
  return { message, sha256: await digest };
}

export type OpenFileResult =
  | { status: 'verified'; data: Uint8Array; signedAt: Date }
  | {
      status: 'unknown-author-key';
      reason: 'signed-by-another-key' | 'author-key-mismatch' | 'unreadable-author-key';
    }
  | { status: 'bad-signature'; reason: BadSignatureReason }
  | { status: 'context-mismatch'; mismatches: ['sha256'] }
  | { status: 'not-for-me' };

/**
 * Opens an attachment: decrypt, require exactly one valid signature by the author, and (when
 * `expectSha256` from the verified record envelope is given) require the plaintext to match it.
 * With `onProgress` the ciphertext is fed to openpgp.js in 1 MiB chunks and progress counts
 * ciphertext bytes consumed; the plaintext is still collected in full and returned only after
 * the integrity check and signature verified (nothing unverified is ever released).
 */
export async function openFile(opts: {
  message: Uint8Array;
  myKey: UnlockedKey;
  authorPublicKey: string;
  authorFingerprint?: Fingerprint;
  expectSha256?: string;
  onProgress?: (progress: FileProgress) => void;
}): Promise<OpenFileResult> {
  if (!(opts.message instanceof Uint8Array))
    return { status: 'bad-signature', reason: 'malformed' };
  const total = opts.message.length;
  const onProgress = opts.onProgress;
  onProgress?.({ done: 0, total });
  const outcome = await decryptVerified({
    ...(onProgress ? { onInputProgress: (done: number) => onProgress({ done, total }) } : {}),
    message: opts.message,
    myKey: opts.myKey,
    authorPublicKey: opts.authorPublicKey,
    ...(opts.authorFingerprint ? { authorFingerprint: opts.authorFingerprint } : {}),
    maxBytes: MAX_FILE_BYTES + 64 * 1024,
  });
  if (outcome.status !== 'ok') return outcome;
  let data: Uint8Array;
  try {
    data = unpadFile(outcome.data);
  } catch {
    return { status: 'bad-signature', reason: 'malformed' };
  }
  if (opts.expectSha256 !== undefined && (await sha256(data)) !== opts.expectSha256) {
    return { status: 'context-mismatch', mismatches: ['sha256'] };
  }
  return { status: 'verified', data, signedAt: outcome.signedAt };
}
