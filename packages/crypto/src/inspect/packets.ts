// A minimal OpenPGP packet framer (RFC 9580 §4.2) for inspecting and splicing messages without
// decrypting or re-serialising them: it only reads headers and lengths. Splicing a PKESK into a
// 16 MiB message is then a byte copy, not a re-encode (DESIGN §6).
import type { PacketSummary, PacketTypeName } from '../types';

const TAG_NAMES: Record<number, PacketTypeName> = {
  1: 'pkesk',
  2: 'signature',
  3: 'skesk',
  4: 'one-pass-signature',
  5: 'secret-key',
  6: 'public-key',
  7: 'secret-subkey',
  8: 'compressed',
  9: 'sed',
  10: 'marker',
  11: 'literal',
  12: 'trust',
  13: 'user-id',
  14: 'public-subkey',
  17: 'user-attribute',
  18: 'seipd',
  20: 'aead',
  21: 'padding',
};

export interface FramedPacket {
  tag: number;
  /** Offset of the packet header. */
  start: number;
  /** Offset just past the packet. */
  end: number;
  /** Offset of the body (for non-partial packets; for partial ones, of the first chunk). */
  bodyStart: number;
  bodyLength: number;
  /** True when the body uses partial lengths (streamed). */
  partial: boolean;
}

export class PacketFramingError extends Error {}

function readLength(
  bytes: Uint8Array,
  pos: number,
): { length: number; headerBytes: number; partial: boolean } {
  const b0 = bytes[pos];
  if (b0 === undefined) throw new PacketFramingError('truncated length');
  if (b0 < 192) return { length: b0, headerBytes: 1, partial: false };
  if (b0 < 224) {
    const b1 = bytes[pos + 1];
    if (b1 === undefined) throw new PacketFramingError('truncated length');
    return { length: ((b0 - 192) << 8) + b1 + 192, headerBytes: 2, partial: false };
  }
  if (b0 < 255) return { length: 1 << (b0 & 0x1f), headerBytes: 1, partial: true };
  if (pos + 5 > bytes.length) throw new PacketFramingError('truncated length');
  const length =
    (bytes[pos + 1] ?? 0) * 2 ** 24 +
    ((bytes[pos + 2] ?? 0) << 16) +
    ((bytes[pos + 3] ?? 0) << 8) +
    (bytes[pos + 4] ?? 0);
  return { length, headerBytes: 5, partial: false };
}

/** Splits `bytes` into top-level packets. Throws PacketFramingError on anything malformed. */
export function framePackets(bytes: Uint8Array): FramedPacket[] {
  const packets: FramedPacket[] = [];
  let pos = 0;
  while (pos < bytes.length) {
    const start = pos;
    const ctb = bytes[pos] ?? 0;
    if ((ctb & 0x80) === 0) throw new PacketFramingError(`byte ${pos}: not a packet header`);
    pos++;
    let tag: number;
    let bodyStart: number;
    let bodyLength = 0;
    let partial = false;
    if (ctb & 0x40) {
      tag = ctb & 0x3f;
      let len = readLength(bytes, pos);
      pos += len.headerBytes;
      bodyStart = pos;
      if (len.partial) {
        partial = true;
        // RFC 9580 §4.2.1.4: the first partial chunk must be at least 512 bytes.
        if (len.length < 512)
          throw new PacketFramingError('first partial body chunk shorter than 512 bytes');
        while (len.partial) {
          pos += len.length;
          bodyLength += len.length;
          if (pos > bytes.length) throw new PacketFramingError('truncated packet body');
          len = readLength(bytes, pos);
          pos += len.headerBytes;
        }
      }
      pos += len.length;
      bodyLength += len.length;
    } else {
      tag = (ctb >> 2) & 0x0f;
      const type = ctb & 0x03;
      if (type === 3) {
        // indeterminate length: the rest of the input
        bodyStart = pos;
        bodyLength = bytes.length - pos;
        pos = bytes.length;
      } else {
        const n = type === 0 ? 1 : type === 1 ? 2 : 4;
        if (pos + n > bytes.length) throw new PacketFramingError('truncated length');
        for (let i = 0; i < n; i++) bodyLength = bodyLength * 256 + (bytes[pos + i] ?? 0);
        pos += n;
        bodyStart = pos;
        pos += bodyLength;
      }
    }
    if (pos > bytes.length) throw new PacketFramingError('truncated packet body');
    if (tag === 0) throw new PacketFramingError('reserved packet tag 0');
    packets.push({ tag, start, end: pos, bodyStart, bodyLength, partial });
  }
  return packets;
}

/** Two hex digits per byte value: a key ID is read from every PKESK of every message checked or opened. */
const HEX_BYTE = Array.from({ length: 256 }, (_, b) => b.toString(16).padStart(2, '0'));

function hex(bytes: Uint8Array): string {
  let s = '';
  for (const b of bytes) s += HEX_BYTE[b] ?? '';
  return s;
}

/** Summary of one framed packet: type, version, PKESK key ID. */
export function summarise(bytes: Uint8Array, packet: FramedPacket): PacketSummary {
  const summary: PacketSummary = {
    tag: packet.tag,
    type: TAG_NAMES[packet.tag] ?? 'unknown',
    length: packet.bodyLength,
  };
  const first = bytes[packet.bodyStart];
  if (
    (packet.tag === 1 || packet.tag === 18 || packet.tag === 3 || packet.tag === 20) &&
    first !== undefined
  ) {
    summary.version = first;
  }
  if (packet.tag === 1 && first === 3 && !packet.partial && packet.bodyLength >= 10) {
    summary.keyId = hex(bytes.subarray(packet.bodyStart + 1, packet.bodyStart + 9));
  }
  if (packet.tag === 1 && first === 6 && !packet.partial && packet.bodyLength >= 2) {
    // v6 PKESK: key version + fingerprint; the v4-style key ID is not present. Record the
    // anonymous form as wildcard so checks treat it as "cannot tell who".
    const fpLen = bytes[packet.bodyStart + 1] ?? 0;
    summary.keyId =
      fpLen === 0
        ? '0000000000000000'
        : hex(bytes.subarray(packet.bodyStart + 3, packet.bodyStart + 2 + fpLen)).slice(0, 16);
  }
  return summary;
}
