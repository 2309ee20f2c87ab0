// Internal: sign-then-encrypt and decrypt-and-verify with one classification of failures, shared
// by records, attachments and self-encrypted blobs. Verification fails closed (STYLE.md §10):
// plaintext is returned only with status 'ok'.
import * as openpgp from 'openpgp';
import { MessageCheckError } from './errors';
import { checkMessageStructure } from './inspect';
import { parseKey, type UnlockedKey } from './keys';
import { MESSAGE_CONFIG, READ_CONFIG } from './openpgp-config';
import type { Fingerprint } from './types';

/** A session key shared by a record version's message and its attachments (DESIGN §6). Secret. */
export interface SessionKey {
  readonly kind: 'session-key';
  /** @internal */
  readonly data: Uint8Array;
  readonly algorithm: 'aes256';
}

/** A fresh random AES-256 session key. */
export function createSessionKey(): SessionKey {
  const data = new Uint8Array(32);
  globalThis.crypto.getRandomValues(data);
  return Object.freeze({ kind: 'session-key', data, algorithm: 'aes256' });
}

export type BadSignatureReason =
  | 'unsigned'
  | 'invalid-signature'
  | 'unexpected-signatures'
  | 'modified-ciphertext'
  | 'decryption-failed'
  | 'malformed'
  | 'too-large'
  | 'no-integrity'
  | 'unencrypted-data';

export type DecryptOutcome =
  | { status: 'ok'; data: Uint8Array; signedAt: Date }
  | { status: 'not-for-me' }
  | { status: 'unknown-author-key'; reason: 'signed-by-another-key' | 'author-key-mismatch' | 'unreadable-author-key' }
  | { status: 'bad-signature'; reason: BadSignatureReason };

export async function encryptSigned(opts: {
  data: Uint8Array;
  signer: UnlockedKey;
  recipients: openpgp.PublicKey[];
  sessionKey?: SessionKey;
  format: 'armored' | 'binary';
}): Promise<string | Uint8Array> {
  const message = await openpgp.createMessage({ binary: opts.data, format: 'binary' });
  const common = {
    message,
    encryptionKeys: opts.recipients,
    signingKeys: opts.signer.key,
    ...(opts.sessionKey ? { sessionKey: { data: opts.sessionKey.data, algorithm: opts.sessionKey.algorithm } } : {}),
    config: MESSAGE_CONFIG,
  };
  return opts.format === 'armored' ? openpgp.encrypt({ ...common, format: 'armored' }) : openpgp.encrypt({ ...common, format: 'binary' });
}

function classify(error: unknown): DecryptOutcome {
  const message = error instanceof Error ? error.message : String(error);
  if (/Could not find signing key/i.test(message)) return { status: 'unknown-author-key', reason: 'signed-by-another-key' };
  if (/Message is not signed/i.test(message)) return { status: 'bad-signature', reason: 'unsigned' };
  if (/Modification detected/i.test(message)) return { status: 'bad-signature', reason: 'modified-ciphertext' };
  if (/decompressed/i.test(message)) return { status: 'bad-signature', reason: 'too-large' };
  if (/Session key decryption failed|session key|Decryption key/i.test(message)) return { status: 'bad-signature', reason: 'decryption-failed' };
  if (/digest did not match|signature/i.test(message)) return { status: 'bad-signature', reason: 'invalid-signature' };
  return { status: 'bad-signature', reason: 'malformed' };
}

/** Key IDs (16 hex) of every key and subkey of `key`. */
function keyIdsOf(key: openpgp.Key): Set<string> {
  return new Set(key.getKeys().map((k) => k.getKeyID().toHex()));
}

/**
 * Decrypts with `myKey` and requires exactly one valid signature by `authorPublicKey` (whose
 * fingerprint must equal `authorFingerprint` when given: the pinned key).
 */
export async function decryptVerified(opts: {
  message: string | Uint8Array;
  myKey: UnlockedKey;
  authorPublicKey: string | openpgp.Key;
  authorFingerprint?: Fingerprint;
  maxBytes?: number;
  date?: Date;
}): Promise<DecryptOutcome> {
  let recipientKeyIds: string[];
  try {
    recipientKeyIds = checkMessageStructure(opts.message, opts.maxBytes ?? Number.MAX_SAFE_INTEGER).recipientKeyIds;
  } catch (error) {
    if (error instanceof MessageCheckError) {
      const reason: BadSignatureReason =
        error.code === 'no-integrity' ? 'no-integrity' : error.code === 'unencrypted-data' ? 'unencrypted-data' : error.code === 'too-large' ? 'too-large' : 'malformed';
      // A message whose recipients we can't read is still "not for me" if it parses at all;
      // structure failures are tampering.
      return { status: 'bad-signature', reason };
    }
    throw error;
  }
  const mine = keyIdsOf(opts.myKey.key);
  if (!recipientKeyIds.some((id) => mine.has(id))) return { status: 'not-for-me' };

  let author: openpgp.Key;
  try {
    author = typeof opts.authorPublicKey === 'string' ? await parseKey(opts.authorPublicKey) : opts.authorPublicKey;
  } catch {
    return { status: 'unknown-author-key', reason: 'unreadable-author-key' };
  }
  if (author.isPrivate()) author = author.toPublic();
  if (opts.authorFingerprint !== undefined && author.getFingerprint() !== opts.authorFingerprint) {
    return { status: 'unknown-author-key', reason: 'author-key-mismatch' };
  }
  try {
    const message =
      typeof opts.message === 'string'
        ? await openpgp.readMessage({ armoredMessage: opts.message, config: READ_CONFIG })
        : await openpgp.readMessage({ binaryMessage: opts.message, config: READ_CONFIG });
    const { data, signatures } = await openpgp.decrypt({
      message,
      decryptionKeys: opts.myKey.key,
      verificationKeys: author,
      expectSigned: true,
      format: 'binary',
      ...(opts.date ? { date: opts.date } : {}),
      config: READ_CONFIG,
    });
    if (signatures.length !== 1) return { status: 'bad-signature', reason: 'unexpected-signatures' };
    const [only] = signatures;
    if (!only) return { status: 'bad-signature', reason: 'unsigned' };
    await only.verified;
    const packet = await only.signature;
    const signedAt = packet.packets[0]?.created ?? new Date(0);
    return { status: 'ok', data, signedAt };
  } catch (error) {
    return classify(error);
  }
}
