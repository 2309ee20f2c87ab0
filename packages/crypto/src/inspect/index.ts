// Server-side message checks (DESIGN §5, "the server checks every message it accepts without
// decrypting it"). Nothing here needs a private key or decrypts anything.
import { CryptoError, MessageCheckError } from '../errors';
import { fromBase64Url, toBase64Url } from '../encoding';
import { validatedPublicKey, WILDCARD_KEY_ID } from '../keys';
import type { MessageSummary, PacketSummary } from '../types';
import { armorMessage, dearmor } from './armor';
import { framePackets, PacketFramingError, summarise, type FramedPacket } from './packets';

export { armorMessage, dearmor } from './armor';
export { framePackets, summarise } from './packets';

const TAG_PKESK = 1;
const TAG_SEIPD = 18;

interface Decoded {
  format: 'armored' | 'binary';
  /** Armor header lines (none for binary). */
  armorHeaders: string[];
  size: number;
  bytes: Uint8Array;
  framed: FramedPacket[];
  packets: PacketSummary[];
}

function decode(message: string | Uint8Array, maxBytes: number): Decoded {
  if (!(Number.isSafeInteger(maxBytes) && maxBytes > 0)) {
    throw new RangeError('maxBytes must be a positive integer');
  }
  let bytes: Uint8Array;
  let format: 'armored' | 'binary';
  let armorHeaders: string[] = [];
  if (typeof message === 'string') {
    format = 'armored';
    if (message.length > maxBytes) {
      throw new MessageCheckError(
        'too-large',
        `message is ${message.length} characters; the limit is ${maxBytes}`,
        {
          details: { size: message.length, maxBytes },
        },
      );
    }
    const result = dearmor(message);
    if (!result.ok)
      throw new MessageCheckError(
        'not-armored',
        `not an ASCII-armored OpenPGP message: ${result.detail}`,
      );
    if (result.type !== 'MESSAGE') {
      throw new MessageCheckError(
        'not-a-message',
        `armored "${result.type}" where a PGP MESSAGE was expected`,
      );
    }
    bytes = result.bytes;
    armorHeaders = result.headers;
  } else if (message instanceof Uint8Array) {
    format = 'binary';
    if (message.length > maxBytes) {
      throw new MessageCheckError(
        'too-large',
        `message is ${message.length} bytes; the limit is ${maxBytes}`,
        {
          details: { size: message.length, maxBytes },
        },
      );
    }
    bytes = message;
  } else {
    throw new MessageCheckError('not-a-message', 'message must be an armored string or bytes');
  }
  if (bytes.length === 0) throw new MessageCheckError('not-a-message', 'empty message');
  let framed: FramedPacket[];
  try {
    framed = framePackets(bytes);
  } catch (cause) {
    const detail = cause instanceof PacketFramingError ? cause.message : 'unreadable packets';
    throw new MessageCheckError('not-a-message', `not an OpenPGP packet sequence: ${detail}`, {
      cause,
    });
  }
  return {
    format,
    armorHeaders,
    size: message.length,
    bytes,
    framed,
    packets: framed.map((p) => summarise(bytes, p)),
  };
}

/**
 * Lists the top-level packets of a message (armored records or binary attachments).
 * @throws MessageCheckError `too-large`, `not-armored`, `not-a-message`.
 */
export async function inspectMessage(
  message: string | Uint8Array,
  opts: { maxBytes: number },
): Promise<MessageSummary> {
  const d = decode(message, opts.maxBytes);
  return {
    format: d.format,
    size: d.size,
    packets: d.packets,
    recipientKeyIds: d.packets
      .filter((p) => p.tag === TAG_PKESK)
      .map((p) => p.keyId ?? WILDCARD_KEY_ID),
  };
}

/**
 * Structure rule: no armor headers, PKESK(v3)* then exactly one SEIPDv1, nothing else. Returns
 * the summary. Armor headers are refused because they are clear text the server would store
 * beside the ciphertext (a "Comment:" can hold anything); openpgp.js writes none here.
 */
function checkStructure(d: Decoded): MessageSummary {
  if (d.armorHeaders.length > 0) {
    throw new MessageCheckError(
      'unencrypted-data',
      'armor headers are clear text next to the encrypted data; send the message without them',
    );
  }
  const { packets } = d;
  for (const p of packets) {
    switch (p.type) {
      case 'pkesk':
        if (p.version !== 3) {
          throw new MessageCheckError(
            'not-a-message',
            `PKESK version ${String(p.version)} is not supported (v3 only)`,
          );
        }
        break;
      case 'seipd':
        if (p.version !== 1) {
          throw new MessageCheckError(
            'not-a-message',
            `SEIPD version ${String(p.version)} is not supported (v1 + MDC only)`,
          );
        }
        break;
      case 'sed':
        throw new MessageCheckError(
          'no-integrity',
          'symmetrically encrypted data without integrity protection (SED) is refused',
        );
      case 'literal':
      case 'compressed':
      case 'one-pass-signature':
      case 'signature':
        throw new MessageCheckError(
          'unencrypted-data',
          `unencrypted ${p.type} packet at the top level of the message`,
        );
      case 'skesk':
        throw new MessageCheckError(
          'recipient-mismatch',
          'password-encrypted session keys (SKESK) are not allowed',
        );
      default:
        throw new MessageCheckError(
          'not-a-message',
          `unexpected ${p.type} packet (tag ${p.tag}) in a message`,
        );
    }
  }
  const seipdIndex = packets.findIndex((p) => p.tag === TAG_SEIPD);
  if (seipdIndex === -1) throw new MessageCheckError('not-a-message', 'no encrypted data packet');
  if (seipdIndex !== packets.length - 1) {
    throw new MessageCheckError(
      'not-a-message',
      'the encrypted data packet must be the last and only one',
    );
  }
  const recipientKeyIds = packets
    .filter((p) => p.tag === TAG_PKESK)
    .map((p) => p.keyId ?? WILDCARD_KEY_ID);
  return { format: d.format, size: d.size, packets, recipientKeyIds };
}

/**
 * The server's acceptance check for a record (armored) or attachment (binary) message: only
 * PKESK v3 packets and one SEIPDv1 packet at the top level, and the PKESK key IDs are exactly
 * one per declared recipient, each to a currently usable encryption key of that recipient. Never
 * decrypts.
 * @throws MessageCheckError `too-large`, `not-armored`, `not-a-message`, `unencrypted-data`,
 * `no-integrity`, `recipient-mismatch`; CryptoError from `readPublicKey` if a recipient key is
 * itself unusable.
 */
export async function checkEncryptedTo(
  message: string | Uint8Array,
  recipientPublicKeys: string[],
  opts: { maxBytes: number; now?: Date },
): Promise<MessageSummary> {
  const summary = checkStructure(decode(message, opts.maxBytes));
  const recipients = await Promise.all(
    recipientPublicKeys.map(async (k) => {
      const v = await validatedPublicKey(k, opts.now ?? new Date());
      return { fingerprint: v.key.getFingerprint(), encryptionKeyIds: v.encryptionKeyIds };
    }),
  );
  const owner = new Map<string, string>(); // key ID -> recipient fingerprint
  for (const r of recipients) for (const id of r.encryptionKeyIds) owner.set(id, r.fingerprint);
  const seenKeyIds = new Set<string>();
  const covered = new Set<string>();
  const unexpected: string[] = [];
  for (const id of summary.recipientKeyIds) {
    if (id === WILDCARD_KEY_ID) {
      throw new MessageCheckError(
        'recipient-mismatch',
        'anonymous (wildcard) recipients are refused: the server could not tell who can read',
        {
          details: { unexpectedKeyIds: [id] },
        },
      );
    }
    if (seenKeyIds.has(id)) {
      throw new MessageCheckError('recipient-mismatch', `key ID ${id} appears twice`, {
        details: { duplicateKeyIds: [id] },
      });
    }
    seenKeyIds.add(id);
    const fp = owner.get(id);
    if (fp === undefined) unexpected.push(id);
    else if (covered.has(fp)) {
      throw new MessageCheckError(
        'recipient-mismatch',
        `recipient ${fp} has more than one session key packet`,
        {
          details: { duplicateRecipients: [fp] },
        },
      );
    } else covered.add(fp);
  }
  const missing = recipients.map((r) => r.fingerprint).filter((fp) => !covered.has(fp));
  if (unexpected.length > 0 || missing.length > 0) {
    throw new MessageCheckError(
      'recipient-mismatch',
      `message recipients differ from the declared recipients (${unexpected.length} unexpected key IDs, ${missing.length} recipients without a session key packet)`,
      { details: { unexpectedKeyIds: unexpected, missingRecipients: missing } },
    );
  }
  return summary;
}

/**
 * One PKESK v3 packet given as base64url (as `recipientPackets` returns them): its bytes, its
 * body and the key ID it is addressed to (the wildcard for an anonymous one).
 * @throws MessageCheckError `not-a-message`.
 */
export function decodeRecipientPacket(pkesk: string): {
  bytes: Uint8Array;
  body: Uint8Array;
  keyId: string;
} {
  const bytes = typeof pkesk === 'string' ? fromBase64Url(pkesk) : null;
  if (!bytes || bytes.length === 0)
    throw new MessageCheckError('not-a-message', 'recipient packet is not base64url');
  let framed: FramedPacket[];
  try {
    framed = framePackets(bytes);
  } catch (cause) {
    throw new MessageCheckError('not-a-message', 'recipient packet is not an OpenPGP packet', {
      cause,
    });
  }
  const only = framed[0];
  if (framed.length !== 1 || !only)
    throw new MessageCheckError('not-a-message', 'expected exactly one packet');
  const s = summarise(bytes, only);
  if (s.tag !== TAG_PKESK || s.version !== 3 || only.partial) {
    throw new MessageCheckError(
      'not-a-message',
      'expected one public-key encrypted session key packet (PKESK v3)',
    );
  }
  return {
    bytes,
    body: bytes.subarray(only.bodyStart, only.end),
    keyId: s.keyId ?? WILDCARD_KEY_ID,
  };
}

/**
 * Checks that `pkesk` (base64url) is exactly one PKESK v3 packet addressed to a usable encryption
 * key of `recipientPublicKey`. Server side of sharing (DESIGN §6).
 * @throws MessageCheckError `not-a-message`, `recipient-mismatch`; CryptoError key codes.
 */
export async function checkRecipientPacket(
  pkesk: string,
  recipientPublicKey: string,
  opts: { now?: Date } = {},
): Promise<void> {
  const { keyId } = decodeRecipientPacket(pkesk);
  const info = await validatedPublicKey(recipientPublicKey, opts.now ?? new Date());
  if (!info.encryptionKeyIds.includes(keyId)) {
    throw new MessageCheckError(
      'recipient-mismatch',
      `the packet is for key ID ${keyId}, not for this recipient's encryption key`,
      {
        details: { keyId, expected: info.encryptionKeyIds },
      },
    );
  }
}

/**
 * Splices one PKESK packet (base64url) into a message after its existing PKESKs: armored in,
 * armored out; binary in, binary out. No private key and no re-encryption; the cost is one
 * allocation and one copy of the message.
 *
 * `allocate` makes the new message's buffer (default `new Uint8Array`, which zero-fills it first).
 * A Node caller can pass `Buffer.allocUnsafeSlow`: every byte of the buffer is overwritten, all
 * before this returns and with no await in between, so none of its old content can come out. On
 * a 16 MiB attachment the zero-fill was ~1–1.8 ms of a ~2–4 ms splice; browsers have no
 * uninitialised allocation, and this package's code stays browser-safe.
 * @throws MessageCheckError `not-armored`, `not-a-message`, `recipient-mismatch` (already has a
 * packet for that key ID), and the structure codes of `checkEncryptedTo`; CryptoError
 * `invalid-argument` when `allocate` returns a buffer of another length.
 */
export async function addRecipientPacket<T extends string | Uint8Array>(
  message: T,
  pkesk: string,
  opts: { allocate?: (length: number) => Uint8Array } = {},
): Promise<T> {
  const packet = decodeRecipientPacket(pkesk);
  const d = decode(message, Number.MAX_SAFE_INTEGER);
  const summary = checkStructure(d);
  if (summary.recipientKeyIds.includes(packet.keyId)) {
    throw new MessageCheckError(
      'recipient-mismatch',
      `the message already has a session key packet for key ID ${packet.keyId}`,
    );
  }
  const seipd = d.framed[d.framed.length - 1];
  if (!seipd) throw new MessageCheckError('not-a-message', 'no encrypted data packet');
  const length = d.bytes.length + packet.bytes.length;
  const out = opts.allocate ? opts.allocate(length) : new Uint8Array(length);
  if (out.length !== length)
    throw new CryptoError(
      'invalid-argument',
      `allocate returned ${out.length} bytes where ${length} were asked for`,
    );
  // These three writes cover [0, length) exactly.
  out.set(d.bytes.subarray(0, seipd.start), 0);
  out.set(packet.bytes, seipd.start);
  out.set(d.bytes.subarray(seipd.start), seipd.start + packet.bytes.length);
  return (typeof message === 'string' ? armorMessage(out) : out) as T;
}

/**
 * A binary message cut into the parts a server stores apart: its PKESK packets (base64url, in
 * order) and the body, from the encrypted data packet on (a view into `message`, not a copy).
 * The packets' bytes followed by the body are a whole message again, and readers take PKESKs
 * in any order, so sharing a stored file adds one ~100-byte packet to the list
 * (`appendRecipientPacket`) and never copies the data (DESIGN §6).
 * @throws MessageCheckError the structure codes of `checkEncryptedTo`.
 */
export function splitRecipientPackets(message: Uint8Array): {
  packets: string[];
  body: Uint8Array;
} {
  const d = decode(message, Number.MAX_SAFE_INTEGER);
  checkStructure(d);
  const data = d.framed[d.framed.length - 1];
  if (!data) throw new MessageCheckError('not-a-message', 'no encrypted data packet');
  return {
    packets: d.framed.slice(0, -1).map((p) => toBase64Url(d.bytes.subarray(p.start, p.end))),
    body: d.bytes.subarray(data.start),
  };
}

/**
 * `addRecipientPacket` for a message stored split (`splitRecipientPackets`): a new list, the
 * given packets and then `pkesk`.
 * @throws MessageCheckError `not-a-message` (`pkesk` is not one PKESK v3), `recipient-mismatch`
 * (the list already has a packet for its key ID).
 */
export function appendRecipientPacket(packets: readonly string[], pkesk: string): string[] {
  const { keyId } = decodeRecipientPacket(pkesk);
  if (packets.some((p) => recipientKeyIdOf(p) === keyId)) {
    throw new MessageCheckError(
      'recipient-mismatch',
      `the message already has a session key packet for key ID ${keyId}`,
    );
  }
  return [...packets, pkesk];
}

/**
 * The key ID (16 hex digits, `0000000000000000` for a wildcard) a PKESK packet (base64url) is addressed to.
 * @throws MessageCheckError `not-a-message` when it is not one PKESK v3.
 */
export function recipientKeyIdOf(pkesk: string): string {
  return decodeRecipientPacket(pkesk).keyId;
}

/** Base64url of the PKESK packets of a message (used by tests and tools). */
export function recipientPackets(message: string | Uint8Array): string[] {
  const d = decode(message, Number.MAX_SAFE_INTEGER);
  return d.framed
    .filter((p) => p.tag === TAG_PKESK)
    .map((p) => toBase64Url(d.bytes.subarray(p.start, p.end)));
}

/**
 * Structure-only check (no recipient keys): PKESK v3* + one SEIPDv1. Used before decrypting so
 * clients refuse the same shapes the server refuses.
 * @throws MessageCheckError (all codes except `recipient-mismatch` for key IDs).
 */
export function checkMessageStructure(
  message: string | Uint8Array,
  maxBytes: number,
): MessageSummary {
  return checkStructure(decode(message, maxBytes));
}

/** `checkMessageStructure` plus the decoded binary bytes and packet offsets (for callers that go on to parse). */
export function decodeCheckedMessage(
  message: string | Uint8Array,
  maxBytes: number,
): { summary: MessageSummary; bytes: Uint8Array; framed: FramedPacket[] } {
  const d = decode(message, maxBytes);
  return { summary: checkStructure(d), bytes: d.bytes, framed: d.framed };
}
