// Length hiding for record plaintexts (issue 3: "padded so sizes leak little").
// Padmé (Nikitin et al., "Reducing Metadata Leakage from Encrypted Files and Communication with
// PURBs", PETS 2019): at most ~12% overhead, and a length reveals O(log log L) bits instead of
// O(log L). Below MIN_PADDED everything is padded to the same size.
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
    if (padded[i] !== SPACE) throw new CryptoError('invalid-argument', 'padding contains other bytes');
  }
  return padded.subarray(0, nl);
}
