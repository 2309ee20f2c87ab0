// Length hiding for record plaintexts (issue 3: "padded so sizes leak little").
// Padmé (Nikitin et al., "Reducing Metadata Leakage from Encrypted Files and Communication with
// PURBs", PETS 2019): at most ~12% overhead, and a length reveals O(log log L) bits instead of
// O(log L). Below MIN_PADDED everything is padded to the same size.
import { utf8 } from './encoding';
import { CryptoError } from './errors';

export const MIN_PADDED = 512;

export function padmeLength(length: number): number {
  if (length <= MIN_PADDED) return MIN_PADDED;
  const e = Math.floor(Math.log2(length));
  const s = Math.floor(Math.log2(e)) + 1;
  const lastBits = e - s;
  const mask = 2 ** lastBits - 1;
  return Math.ceil(length / (mask + 1)) * (mask + 1);
}

const NEWLINE = 0x0a;
const SPACE = 0x20;

/** JSON bytes + "\n" + spaces up to the Padmé length. The JSON itself never contains a raw newline. */
export function pad(json: Uint8Array): Uint8Array {
  const total = padmeLength(json.length + 1);
  const out = new Uint8Array(total).fill(SPACE);
  out.set(json, 0);
  out[json.length] = NEWLINE;
  return out;
}

/** Inverse of `pad`; throws `invalid-argument` (treated as tampering by callers) on any other shape. */
export function unpad(padded: Uint8Array): Uint8Array {
  const nl = padded.indexOf(NEWLINE);
  if (nl < 0) throw new CryptoError('invalid-argument', 'padded plaintext has no terminator');
  for (let i = nl + 1; i < padded.length; i++) {
    if (padded[i] !== SPACE)
      throw new CryptoError('invalid-argument', 'padding contains other bytes');
  }
  return padded.subarray(0, nl);
}

/**
 * Attachments are padded too (issue 15, finding 10): `MEDSEAL-FILE-PAD-1\n` ‖ data ‖ 0x80 ‖
 * zeros up to the Padmé length (the ISO/IEC 7816-4 terminator makes any data unambiguous). The
 * prefix versions the format: a file sealed before padding has none and opens as it is.
 */
const FILE_PAD_MAGIC = utf8('MEDSEAL-FILE-PAD-1\n');
const FILE_PAD_END = 0x80;

export function padFile(data: Uint8Array): Uint8Array {
  const out = new Uint8Array(padmeLength(FILE_PAD_MAGIC.length + data.length + 1));
  out.set(FILE_PAD_MAGIC, 0);
  out.set(data, FILE_PAD_MAGIC.length);
  out[FILE_PAD_MAGIC.length + data.length] = FILE_PAD_END;
  return out;
}

/**
 * Inverse of `padFile`; data without the prefix (sealed before padding) is returned as it is.
 * @throws CryptoError `invalid-argument` when the prefix is there but the padding is not.
 */
export function unpadFile(padded: Uint8Array): Uint8Array {
  if (padded.length < FILE_PAD_MAGIC.length || FILE_PAD_MAGIC.some((b, i) => padded[i] !== b))
    return padded;
  let end = padded.length - 1;
  while (end >= FILE_PAD_MAGIC.length && padded[end] === 0) end--;
  if (end < FILE_PAD_MAGIC.length || padded[end] !== FILE_PAD_END)
    throw new CryptoError('invalid-argument', 'file padding has no terminator');
  return padded.subarray(FILE_PAD_MAGIC.length, end);
}
