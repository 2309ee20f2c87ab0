// Sharing (DESIGN §6): give a new reader the session key without re-encrypting the data.
import * as openpgp from 'openpgp';
import { CryptoError, MessageCheckError } from './errors';
import { commitFileKey } from './files';
import { toBase64Url } from './encoding';
import { decodeCheckedMessage, decodeRecipientPacket } from './inspect';
import { keyIdsOf, mayBeFor, validatedPublicKey, type UnlockedKey } from './keys';
import { MESSAGE_CONFIG, READ_CONFIG } from './openpgp-config';

const TAG_PKESK = 1;

/**
 * What a share is made from: the whole message, or only its PKESK packets (base64url, as
 * `recipientPackets` gives them; the server hands them out for attachments, so a client need
 * not download a file of up to 20 MiB to share it).
 */
export type ShareSource =
  { message: string | Uint8Array } | { recipientPackets: readonly string[] };

/**
 * The bodies of the PKESK packets that `myKey` could decrypt: those addressed to one of its key
 * IDs, plus any wildcard (or unreadable) ones, which openpgp.js tries with every key. A whole
 * message still passes the structure check first; given packets must each be one PKESK v3.
 * Only these go to openpgp.js: it looked up a decryption key (and threw an error) for every
 * other recipient's packet, about 0.3 ms of a ~5 ms share even with one other recipient, and
 * more the more readers a record has. Copies (~100 bytes each), so openpgp.js never holds the
 * caller's bytes.
 * @throws MessageCheckError structure codes, `not-a-message` for a PKESK with partial body
 * lengths (RFC 9580 §4.2.1.4 allows them only for data packets) or a given packet that is not
 * one PKESK v3.
 */
function myPkeskBodies(source: ShareSource, myKey: UnlockedKey): Uint8Array[] {
  const mine = keyIdsOf(myKey.key);
  if ('recipientPackets' in source) {
    return source.recipientPackets
      .map(decodeRecipientPacket)
      .flatMap((p) => (mayBeFor(p.keyId, mine) ? [p.body.slice()] : []));
  }
  const { bytes, framed, summary } = decodeCheckedMessage(source.message, Number.MAX_SAFE_INTEGER);
  const bodies: Uint8Array[] = [];
  framed.forEach((p, i) => {
    if (p.tag !== TAG_PKESK || !mayBeFor(summary.packets[i]?.keyId, mine)) return;
    if (p.partial)
      throw new MessageCheckError(
        'not-a-message',
        'a session key packet uses partial body lengths',
      );
    bodies.push(bytes.slice(p.bodyStart, p.end));
  });
  return bodies;
}

/**
 * The session key `myKey` decrypts from the source's packets. The packets are read straight into packet
 * objects from the offsets the structure check found: `readMessage` on the same bytes went
 * through openpgp.js's stream reader, ~0.3 ms of a share for one ~100-byte packet.
 * @throws MessageCheckError structure codes; CryptoError `decryption-failed`.
 */
export async function mySessionKey(
  source: ShareSource,
  myKey: UnlockedKey,
): Promise<openpgp.SessionKey> {
  const bodies = myPkeskBodies(source, myKey);
  if (bodies.length === 0)
    throw new CryptoError(
      'decryption-failed',
      'this key cannot decrypt the message, so it cannot share it (no session key packet for it)',
    );
  let sessionKeys: openpgp.DecryptedSessionKey[];
  try {
    const packets = new openpgp.PacketList<openpgp.AnyPacket>();
    for (const body of bodies) {
      const packet = new openpgp.PublicKeyEncryptedSessionKeyPacket();
      packet.read(body);
      packets.push(packet);
    }
    // A fresh Message every time: decryptSessionKeys blanks the packets of the one it is given.
    sessionKeys = await openpgp.decryptSessionKeys({
      message: new openpgp.Message(packets),
      decryptionKeys: myKey.key,
      config: READ_CONFIG,
    });
  } catch (cause) {
    throw new CryptoError(
      'decryption-failed',
      'this key cannot decrypt the message, so it cannot share it',
      { cause },
    );
  }
  const [sessionKey] = sessionKeys;
  if (sessionKeys.length !== 1 || !sessionKey || !sessionKey.algorithm) {
    throw new CryptoError('decryption-failed', 'expected exactly one session key for this key');
  }
  return { data: sessionKey.data, algorithm: sessionKey.algorithm };
}

/** What the signed record content says about one attachment's session key (`commitFileKey`). */
export interface FileKeyCommitment {
  fileId: string;
  commitment: string;
}

async function checkKeyCommitment(
  expected: FileKeyCommitment,
  sessionKey: openpgp.SessionKey,
): Promise<void> {
  const actual = await commitFileKey({ fileId: expected.fileId, sessionKey });
  if (actual !== expected.commitment) {
    throw new CryptoError(
      'key-commitment-mismatch',
      `the session key served for file ${expected.fileId} is not the one its signed record commits to`,
    );
  }
}

/**
 * Makes the one new PKESK packet (base64url) that lets `newRecipientKey` read `message` (a record
 * or an attachment; or the message whose `recipientPackets` are given), from the session key
 * `myKey` can decrypt. The server checks it with `checkRecipientPacket` and splices it into a
 * record message with `addRecipientPacket`, or adds it to a stored file's packet list with
 * `appendRecipientPacket`. Never touches the caller's
 * data, and the cost does not depend on the message size beyond one scan of its packet headers.
 *
 * The newcomer's key is validated in full (self-signatures, binding, revocation, expiry at this
 * moment, through the validation cache of `keys.ts`) while the session key is being decrypted:
 * both wait mostly on WebCrypto, so they overlap instead of adding up. A failure to decrypt is
 * reported first, as when the two ran one after the other.
 * For an attachment, pass `expectKeyCommitment` from the verified record content: the session
 * key the packets carry must be the one the author committed to for that file id, else nothing
 * is encrypted (the server could serve another record's packets under this file's id).
 * @throws MessageCheckError structure codes; CryptoError `decryption-failed` (not a recipient),
 * `key-commitment-mismatch`, key codes for `newRecipientKey`, `invalid-argument` if openpgp.js
 * still cannot encrypt to it.
 */
export async function createRecipientPacket(
  opts: ShareSource & {
    myKey: UnlockedKey;
    newRecipientKey: string;
    expectKeyCommitment?: FileKeyCommitment;
  },
): Promise<string> {
  if (typeof opts.newRecipientKey !== 'string')
    throw new CryptoError('invalid-key', 'newRecipientKey must be an armored public key');
  const now = new Date();
  const [decrypted, newKey] = await Promise.allSettled([
    mySessionKey(opts, opts.myKey),
    validatedPublicKey(opts.newRecipientKey, now),
  ]);
  if (decrypted.status === 'rejected') throw decrypted.reason;
  if (newKey.status === 'rejected') throw newKey.reason;
  const { data, algorithm } = decrypted.value;
  if (opts.expectKeyCommitment)
    await checkKeyCommitment(opts.expectKeyCommitment, { data, algorithm });
  let packet: Uint8Array;
  try {
    packet = await openpgp.encryptSessionKey({
      data,
      algorithm,
      encryptionKeys: newKey.value.key,
      date: now,
      format: 'binary',
      config: MESSAGE_CONFIG,
    });
  } catch (cause) {
    throw new CryptoError('invalid-argument', 'encryption failed', { cause });
  }
  return toBase64Url(packet);
}
