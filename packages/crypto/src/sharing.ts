// Sharing (DESIGN §6): give a new reader the session key without re-encrypting the data.
import * as openpgp from 'openpgp';
import { CryptoError } from './errors';
import { concatBytes, toBase64Url } from './encoding';
import { decodeCheckedMessage } from './inspect';
import { encryptToKeys, keyIdsOf, type UnlockedKey } from './keys';
import type { SessionKey } from './messages';
import { MESSAGE_CONFIG, READ_CONFIG } from './openpgp-config';
import { openRecord, sealRecord, type JsonObject, type RecordEnvelope, type RecordExpectation } from './records';
import type { ArmoredMessage, UserId } from './types';

const TAG_PKESK = 1;

/** Reading only PKESK packets: without the encrypted data packet it is not a whole message, so no grammar check. Built once. */
const PREFIX_READ_CONFIG: openpgp.Config = Object.freeze({ ...READ_CONFIG, enforceGrammar: false });

const WILDCARD_KEY_ID = '0000000000000000';

/**
 * The PKESK packets of a message that `myKey` could decrypt: those addressed to one of its key
 * IDs, plus any wildcard (or unreadable) ones, which openpgp.js tries with every key. The whole
 * message still passes the structure check first. Only these go to openpgp.js: it looked up a
 * decryption key (and threw an error) for every other recipient's packet, about 0.3 ms of a
 * ~5 ms share even with one other recipient, and more the more readers a record has.
 */
function myPkesks(message: string | Uint8Array, myKey: UnlockedKey): Uint8Array {
  const { bytes, framed, summary } = decodeCheckedMessage(message, Number.MAX_SAFE_INTEGER);
  const mine = keyIdsOf(myKey.key);
  const parts: Uint8Array[] = [];
  framed.forEach((p, i) => {
    if (p.tag !== TAG_PKESK) return;
    const keyId = summary.packets[i]?.keyId;
    if (keyId === undefined || keyId === WILDCARD_KEY_ID || mine.has(keyId)) parts.push(bytes.subarray(p.start, p.end));
  });
  return parts.length === 1 && parts[0] ? parts[0] : concatBytes(...parts);
}
/**
 * Makes the one new PKESK packet (base64url) that lets `newRecipientKey` read `message` (a record
 * or an attachment), from the session key `myKey` can decrypt. The server checks it with
 * `checkRecipientPacket` and splices it in with `addRecipientPacket`.
 *
 * openpgp.js's decryptSessionKeys blanks the packets of the Message object it is given, so this
 * parses a fresh object from only the PKESK packets `myKey` can use, every time, and never
 * touches the caller's data (which also keeps the cost independent of the message size).
 * @throws MessageCheckError structure codes; CryptoError `decryption-failed` (not a recipient),
 * key codes for `newRecipientKey`.
 */
export async function createRecipientPacket(opts: {
  message: string | Uint8Array;
  myKey: UnlockedKey;
  newRecipientKey: string;
}): Promise<string> {
  if (typeof opts.newRecipientKey !== 'string') throw new CryptoError('invalid-key', 'newRecipientKey must be an armored public key');
  const pkesks = myPkesks(opts.message, opts.myKey);
  if (pkesks.length === 0) throw new CryptoError('decryption-failed', 'this key cannot decrypt the message, so it cannot share it (no session key packet for it)');
  let sessionKeys: openpgp.DecryptedSessionKey[];
  try {
    const copy = await openpgp.readMessage({ binaryMessage: pkesks, config: PREFIX_READ_CONFIG });
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
