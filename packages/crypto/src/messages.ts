// Internal: sign-then-encrypt and decrypt-and-verify with one classification of failures, shared
// by records, attachments and self-encrypted blobs. Verification fails closed (STYLE.md §10):
// plaintext is returned only with status 'ok'.
import * as openpgp from 'openpgp';
import { MessageCheckError } from './errors';
import { decodeCheckedMessage } from './inspect';
import { keyIdsOf, mayBeFor, parsePublicKeyCached, type UnlockedKey } from './keys';
import { MESSAGE_CONFIG, READ_CONFIG } from './openpgp-config';
import { collect, progressStream } from './streams';
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
  | 'unencrypted-data'
  | 'author-key-not-valid';

/**
 * What a message is opened with: my key (its PKESK), or a session key handed over in a signed
 * message (a re-key names its base version's, docs/care-teams.md), which needs no PKESK.
 */
export type DecryptWith = { myKey: UnlockedKey } | { sessionKey: SessionKey };

export type DecryptOutcome =
  | { status: 'ok'; data: Uint8Array; signedAt: Date; authorFingerprint: Fingerprint }
  | { status: 'not-for-me' }
  | {
      status: 'unknown-author-key';
      reason: 'signed-by-another-key' | 'author-key-mismatch' | 'unreadable-author-key';
    }
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
    ...(opts.sessionKey
      ? { sessionKey: { data: opts.sessionKey.data, algorithm: opts.sessionKey.algorithm } }
      : {}),
    config: MESSAGE_CONFIG,
  };
  return opts.format === 'armored'
    ? openpgp.encrypt({ ...common, format: 'armored' })
    : openpgp.encrypt({ ...common, format: 'binary' });
}

function classify(error: unknown): DecryptOutcome {
  const message = error instanceof Error ? error.message : String(error);
  if (/Could not find signing key/i.test(message))
    return { status: 'unknown-author-key', reason: 'signed-by-another-key' };
  if (/Message is not signed/i.test(message))
    return { status: 'bad-signature', reason: 'unsigned' };
  if (/Modification detected/i.test(message))
    return { status: 'bad-signature', reason: 'modified-ciphertext' };
  if (/decompressed/i.test(message)) return { status: 'bad-signature', reason: 'too-large' };
  // The expected author key is revoked or expired (for the signature's time): its signatures no longer count.
  if (/key is (revoked|expired)/i.test(message))
    return { status: 'bad-signature', reason: 'author-key-not-valid' };
  if (/Session key decryption failed|session key|Decryption key/i.test(message))
    return { status: 'bad-signature', reason: 'decryption-failed' };
  if (/digest did not match|signature/i.test(message))
    return { status: 'bad-signature', reason: 'invalid-signature' };
  return { status: 'bad-signature', reason: 'malformed' };
}

/**
 * Decrypts with `myKey` and requires exactly one valid signature by `authorPublicKey` (whose
 * fingerprint must equal `authorFingerprint` when given: the pinned key).
 */
/**
 * The message with only the PKESKs `mine` can use (its key IDs, and wildcards), as
 * `createRecipientPacket` does: openpgp.js tries every PKESK against the decryption key and
 * looks up a key for each other reader's packet (at 100 readers, ~0.7 ms of a ~2.8 ms open).
 */
function onlyMine(
  message: openpgp.Message<Uint8Array>,
  mine: ReadonlySet<string>,
): openpgp.Message<Uint8Array> {
  // getEncryptionKeyIDs lists the PKESKs' key IDs in packet order.
  const keyIds = message.getEncryptionKeyIDs().map((id) => id.toHex());
  let pkesk = 0;
  const kept = new openpgp.PacketList<openpgp.AnyPacket>();
  for (const packet of message.packets) {
    if (packet instanceof openpgp.PublicKeyEncryptedSessionKeyPacket) {
      if (!mayBeFor(keyIds[pkesk++], mine)) continue;
    }
    kept.push(packet);
  }
  return new openpgp.Message(kept);
}

export async function decryptVerified(
  opts: {
    message: string | Uint8Array;
    authorPublicKey: string | openpgp.Key;
    authorFingerprint?: Fingerprint;
    maxBytes?: number;
    date?: Date;
    /** Feed the ciphertext in chunks and report bytes consumed (the result is still all-or-nothing). */
    onInputProgress?: (done: number) => void;
  } & DecryptWith,
): Promise<DecryptOutcome> {
  let recipientKeyIds: string[];
  let bytes: Uint8Array;
  try {
    const decoded = decodeCheckedMessage(opts.message, opts.maxBytes ?? Number.MAX_SAFE_INTEGER);
    recipientKeyIds = decoded.summary.recipientKeyIds;
    bytes = decoded.bytes;
  } catch (error) {
    if (error instanceof MessageCheckError) {
      const reason: BadSignatureReason =
        error.code === 'no-integrity'
          ? 'no-integrity'
          : error.code === 'unencrypted-data'
            ? 'unencrypted-data'
            : error.code === 'too-large'
              ? 'too-large'
              : 'malformed';
      // Refuse the shapes the server refuses (SED, plaintext at top level, AEAD, ...) before any
      // decryption: for a reader they mean tampering, whatever the cause.
      return { status: 'bad-signature', reason };
    }
    throw error;
  }
  const mine = 'myKey' in opts ? keyIdsOf(opts.myKey.key) : null;
  if (mine && !recipientKeyIds.some((id) => mine.has(id))) return { status: 'not-for-me' };

  let author: openpgp.Key;
  try {
    author =
      typeof opts.authorPublicKey === 'string'
        ? await parsePublicKeyCached(opts.authorPublicKey)
        : opts.authorPublicKey;
  } catch {
    return { status: 'unknown-author-key', reason: 'unreadable-author-key' };
  }
  if (author.isPrivate()) author = author.toPublic();
  const authorFingerprint = author.getFingerprint() as Fingerprint;
  if (opts.authorFingerprint !== undefined && authorFingerprint !== opts.authorFingerprint) {
    return { status: 'unknown-author-key', reason: 'author-key-mismatch' };
  }
  try {
    // Parse the bytes already de-armored and framed above (no second base64 pass).
    const message = opts.onInputProgress
      ? await openpgp.readMessage({
          binaryMessage: progressStream(bytes, opts.onInputProgress),
          config: READ_CONFIG,
        })
      : await openpgp
          .readMessage({ binaryMessage: bytes, config: READ_CONFIG })
          .then((m) => (mine ? onlyMine(m, mine) : m));
    const { data: output, signatures } = await openpgp.decrypt({
      message,
      ...('myKey' in opts
        ? { decryptionKeys: opts.myKey.key }
        : { sessionKeys: { data: opts.sessionKey.data, algorithm: opts.sessionKey.algorithm } }),
      verificationKeys: author,
      expectSigned: true,
      format: 'binary',
      ...(opts.date ? { date: opts.date } : {}),
      config: READ_CONFIG,
    });
    // Streamed input gives a stream: read it to the end first; integrity and signature failures
    // surface as a stream error here, before anything is returned.
    const data = await collect(output as ReadableStream<Uint8Array> | Uint8Array);
    if (signatures.length !== 1)
      return { status: 'bad-signature', reason: 'unexpected-signatures' };
    const [only] = signatures;
    if (!only) return { status: 'bad-signature', reason: 'unsigned' };
    await only.verified;
    const packet = await only.signature;
    const signedAt = packet.packets[0]?.created ?? new Date(0);
    return { status: 'ok', data, signedAt, authorFingerprint };
  } catch (error) {
    return classify(error);
  }
}
