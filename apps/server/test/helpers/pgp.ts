import { generateUserKey, sealFile, type GeneratedUserKey } from '@medseal/crypto';

// One throwaway signing key per test process: the server never decrypts, so it never sees
// who signed; only the recipients' session key packets and the message's shape matter to it.
let signer: Promise<GeneratedUserKey> | undefined;

/**
 * Encrypts `data` to the given public keys with the project's own crypto (in-process, no
 * external tool). Messages made by GnuPG, Sequoia and RNP are tested in
 * packages/crypto/test/interop. Returns the binary message, or its ASCII armor.
 */
export async function encryptTo(
  publicKeys: string[],
  data: string | Uint8Array,
  options: { armor?: boolean } = {},
): Promise<Buffer> {
  signer ??= generateUserKey({ name: 'Test fixture signer', email: 'fixture-signer@example.org' });
  const bytes = typeof data === 'string' ? new TextEncoder().encode(data) : data;
  const { message } = await sealFile({
    data: bytes,
    authorKey: (await signer).privateKey,
    recipientKeys: publicKeys,
  });
  return Buffer.from(options.armor === false ? message : armor(message));
}

/** @deprecated The fixtures no longer call `sqop`; use `encryptTo` (same arguments). */
export const sqopEncrypt = encryptTo;

/** An armored message for these recipients (what a record create/update sends). */
export async function armoredTo(
  publicKeys: string[],
  text = 'padded record envelope',
): Promise<string> {
  return (await encryptTo(publicKeys, text)).toString('utf8');
}

interface Packet {
  tag: number;
  start: number;
  end: number;
  body: number;
}

/** Frames top-level OpenPGP packets (new-format headers, as openpgp.js and sqop write them). */
export function framePackets(bytes: Uint8Array): Packet[] {
  const out: Packet[] = [];
  let i = 0;
  while (i < bytes.length) {
    const start = i;
    const header = bytes[i++] ?? 0;
    if ((header & 0xc0) !== 0xc0) throw new Error('test helper reads new-format packets only');
    const tag = header & 0x3f;
    const first = bytes[i++] ?? 0;
    let length: number;
    if (first < 192) length = first;
    else if (first < 224) length = ((first - 192) << 8) + (bytes[i++] ?? 0) + 192;
    else if (first === 255) {
      length =
        ((bytes[i] ?? 0) << 24) |
        ((bytes[i + 1] ?? 0) << 16) |
        ((bytes[i + 2] ?? 0) << 8) |
        (bytes[i + 3] ?? 0);
      i += 4;
    } else {
      // Partial body lengths: only the last (data) packet uses them; it runs to the end.
      out.push({ tag, start, end: bytes.length, body: i });
      break;
    }
    out.push({ tag, start, end: i + length, body: i });
    i += length;
  }
  return out;
}

function crc24(data: Uint8Array): number {
  let crc = 0xb704ce;
  for (const byte of data) {
    crc ^= byte << 16;
    for (let j = 0; j < 8; j++) {
      crc <<= 1;
      if (crc & 0x1000000) crc ^= 0x1864cfb;
    }
  }
  return crc & 0xffffff;
}

/** ASCII armor for a binary message (RFC 4880 §6). */
export function armor(bytes: Uint8Array): string {
  const b64 = Buffer.from(bytes).toString('base64');
  const lines = b64.match(/.{1,64}/g) ?? [];
  const crc = crc24(bytes);
  const sum = Buffer.from([(crc >> 16) & 0xff, (crc >> 8) & 0xff, crc & 0xff]).toString('base64');
  return `-----BEGIN PGP MESSAGE-----\n\n${lines.join('\n')}\n=${sum}\n-----END PGP MESSAGE-----\n`;
}

/**
 * Takes the PKESK for `keyId` out of a binary message: the message without it, and the
 * packet as base64url — what a sharer's client sends when it shares (same session key).
 */
export function takeRecipientPacket(
  message: Uint8Array,
  keyId: string,
): { without: Uint8Array; pkesk: string } {
  const packets = framePackets(message);
  const target = packets.find(
    (p) =>
      p.tag === 1 &&
      Buffer.from(message.subarray(p.body + 1, p.body + 9)).toString('hex') === keyId,
  );
  if (!target) throw new Error(`no PKESK for ${keyId}`);
  const without = Buffer.concat([message.subarray(0, target.start), message.subarray(target.end)]);
  return {
    without: new Uint8Array(without),
    pkesk: Buffer.from(message.subarray(target.start, target.end)).toString('base64url'),
  };
}
