// Sharing (DESIGN §6): give a new reader the session key without re-encrypting the data.
import * as openpgp from 'openpgp';
import { CryptoError } from './errors';
import { toBase64Url } from './encoding';
import { decodeCheckedMessage } from './inspect';
import { encryptToKeys, type UnlockedKey } from './keys';
import type { SessionKey } from './messages';
import { MESSAGE_CONFIG, READ_CONFIG } from './openpgp-config';
import { openRecord, sealRecord, type JsonObject, type RecordEnvelope, type RecordExpectation } from './records';
import type { ArmoredMessage, UserId } from './types';

const TAG_PKESK = 1;

/** Reading only the PKESK prefix: without the encrypted data packet it is not a whole message, so no grammar check. Built once. */
const PREFIX_READ_CONFIG: openpgp.Config = Object.freeze({ ...READ_CONFIG, enforceGrammar: false });

/** The bytes of the PKESK packets at the front of a message (not the encrypted data). */
function pkeskPrefix(message: string | Uint8Array): Uint8Array {
  const { bytes, framed } = decodeCheckedMessage(message, Number.MAX_SAFE_INTEGER);
  const end = framed.filter((p) => p.tag === TAG_PKESK).reduce((max, p) => Math.max(max, p.end), 0);
  return bytes.subarray(0, end);
}

/**
 * Makes the one new PKESK packet (base64url) that lets `newRecipientKey` read `message` (a record
 * or an attachment), from the session key `myKey` can decrypt. The server checks it with
 * `checkRecipientPacket` and splices it in with `addRecipientPacket`.
 *
 * openpgp.js's decryptSessionKeys blanks the packets of the Message object it is given, so this
 * parses a fresh object from only the PKESK packets every time and never touches the caller's
 * data (which also keeps the cost independent of the message size).
 * @throws MessageCheckError structure codes; CryptoError `decryption-failed` (not a recipient),
 * key codes for `newRecipientKey`.
 */
export async function createRecipientPacket(opts: {
  message: string | Uint8Array;
  myKey: UnlockedKey;
  newRecipientKey: string;
}): Promise<string> {
  if (typeof opts.newRecipientKey !== 'string') throw new CryptoError('invalid-key', 'newRecipientKey must be an armored public key');
  const prefix = pkeskPrefix(opts.message);
  let sessionKeys: openpgp.DecryptedSessionKey[];
  try {
    const copy = await openpgp.readMessage({ binaryMessage: prefix, config: PREFIX_READ_CONFIG });
    sessionKeys = await openpgp.decryptSessionKeys({ message: copy, decryptionKeys: opts.myKey.key, config: READ_CONFIG });
  } catch (cause) {
    throw new CryptoError('decryption-failed', 'this key cannot decrypt the message, so it cannot share it', { cause });
  }
  const [sessionKey] = sessionKeys;
  if (sessionKeys.length !== 1 || !sessionKey || !sessionKey.algorithm) {
    throw new CryptoError('decryption-failed', 'expected exactly one session key for this key');
  }
  const algorithm = sessionKey.algorithm;
  const packet = await encryptToKeys([opts.newRecipientKey], ([newKey]) =>
    openpgp.encryptSessionKey({ data: sessionKey.data, algorithm, encryptionKeys: newKey, format: 'binary', config: MESSAGE_CONFIG }),
  );
  return toBase64Url(packet);
}

/**
 * Revocation (DESIGN §6): after the server stops serving the record to a removed reader, write a
 * new version with a fresh session key for the remaining recipients. The current version must
 * open as verified; its content is carried over unchanged, signed by the re-keying user, who is
 * the new version's author (`next.authorId`).
 * @throws CryptoError `record-not-verified` (details.status says why), and the sealRecord codes.
 */
export async function rekeyRecord<C extends JsonObject = JsonObject>(opts: {
  message: string;
  myKey: UnlockedKey;
  expect: RecordExpectation;
  next: { version: number; authorId: UserId; createdAt?: string };
  recipientKeys: string[];
  /** A fresh session key to re-seal the version's attachments under as well (one PKESK serves all). */
  sessionKey?: SessionKey;
}): Promise<{ message: ArmoredMessage; envelope: RecordEnvelope<C> }> {
  const opened = await openRecord<C>({ message: opts.message, myKey: opts.myKey, expect: opts.expect });
  if (opened.status !== 'verified') {
    throw new CryptoError('record-not-verified', `the current version did not verify (${opened.status}); refusing to re-sign it`, {
      details: { status: opened.status },
    });
  }
  if (opts.next.version <= opened.envelope.version) {
    throw new CryptoError('invalid-argument', 'next.version must be greater than the current version');
  }
  return sealRecord<C>({
    envelope: {
      recordId: opened.envelope.recordId,
      version: opts.next.version,
      ownerId: opened.envelope.ownerId,
      authorId: opts.next.authorId,
      createdAt: opts.next.createdAt ?? new Date().toISOString(),
      content: opened.envelope.content,
      ...(opened.envelope.part ? { part: opened.envelope.part } : {}),
    },
    authorKey: opts.myKey,
    recipientKeys: opts.recipientKeys,
    ...(opts.sessionKey ? { sessionKey: opts.sessionKey } : {}),
  });
}
