// Self-encrypted blobs (issue 3 §7): per-user data the server stores but must neither read nor
// edit (e.g. the pinned-contacts list, DESIGN §7). Encrypted and signed to the user's own key,
// with a purpose label inside so one blob can't be served in place of another.
import { CryptoError } from './errors';
import { canonicalJson, fromUtf8, utf8, type Json } from './encoding';
import type { UnlockedKey } from './keys';
import { decryptVerified, encryptSigned, type BadSignatureReason } from './messages';
import { pad, unpad } from './padding';
import type { ArmoredMessage } from './types';

const PURPOSE_RE = /^[a-z0-9][a-z0-9./-]{0,63}$/;

function checkPurpose(purpose: string): void {
  if (typeof purpose !== 'string' || !PURPOSE_RE.test(purpose)) {
    throw new CryptoError('invalid-argument', 'purpose is 1-64 characters of a-z 0-9 . / -');
  }
}

/** Encrypts and signs `data` (JSON) to the key holder only. Throws `invalid-argument`. */
export async function sealSelfBlob(opts: {
  data: Json;
  purpose: string;
  key: UnlockedKey;
}): Promise<ArmoredMessage> {
  checkPurpose(opts.purpose);
  let json: string;
  try {
    json = canonicalJson({
      v: 1,
      purpose: opts.purpose,
      sealedAt: new Date().toISOString(),
      data: opts.data,
    });
  } catch (cause) {
    throw new CryptoError('invalid-argument', 'data must be JSON', { cause });
  }
  return (await encryptSigned({
    data: pad(utf8(json)),
    signer: opts.key,
    recipients: [opts.key.key.toPublic()],
    format: 'armored',
  })) as ArmoredMessage;
}

export type OpenSelfBlobResult =
  | { status: 'verified'; data: Json; sealedAt: string }
  | { status: 'bad-signature'; reason: BadSignatureReason | 'signed-by-another-key' }
  | { status: 'context-mismatch'; mismatches: ['purpose'] | ['format'] }
  | { status: 'not-for-me' };

/**
 * Decrypts a self blob and requires the holder's own signature and the expected purpose.
 * @throws CryptoError `invalid-argument` (purpose), `unsupported-format` (authentic blob of a newer format).
 */
export async function openSelfBlob(opts: {
  message: string;
  purpose: string;
  key: UnlockedKey;
}): Promise<OpenSelfBlobResult> {
  checkPurpose(opts.purpose);
  const outcome = await decryptVerified({
    message: opts.message,
    myKey: opts.key,
    authorPublicKey: opts.key.key.toPublic(),
  });
  if (outcome.status === 'unknown-author-key')
    return { status: 'bad-signature', reason: 'signed-by-another-key' };
  if (outcome.status !== 'ok') return outcome;
  let value: { v?: unknown; purpose?: unknown; sealedAt?: unknown; data?: Json };
  try {
    value = JSON.parse(fromUtf8(unpad(outcome.data))) as typeof value;
  } catch {
    return { status: 'context-mismatch', mismatches: ['format'] };
  }
  if (typeof value !== 'object' || value === null)
    return { status: 'context-mismatch', mismatches: ['format'] };
  // An authentic blob from a newer app version: say so instead of calling it tampered (STYLE.md §12).
  if (typeof value.v === 'number' && value.v !== 1) {
    throw new CryptoError(
      'unsupported-format',
      `self blob format v${value.v} is not supported by this version of the app`,
    );
  }
  if (value.v !== 1 || typeof value.sealedAt !== 'string' || !('data' in value))
    return { status: 'context-mismatch', mismatches: ['format'] };
  if (value.purpose !== opts.purpose)
    return { status: 'context-mismatch', mismatches: ['purpose'] };
  return { status: 'verified', data: value.data as Json, sealedAt: value.sealedAt };
}
