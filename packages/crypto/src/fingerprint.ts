// Showing whose key it is (DESIGN §7): fingerprint display, safety numbers, QR payload.
import { CryptoError } from './errors';
import { createSHA512 } from 'hash-wasm';
import { concatBytes, utf8 } from './encoding';
import type { Fingerprint } from './types';

const FINGERPRINT_RE = /^[0-9a-f]{40}$/;

/** Normalises a fingerprint (spaces dropped, lower case) and checks it is 40 hex. Throws `invalid-fingerprint`. */
export function parseFingerprint(value: string): Fingerprint {
  // Already normal (what the server and this package send): one test instead of two rewrites.
  if (typeof value === 'string' && FINGERPRINT_RE.test(value)) return value as Fingerprint;
  const normalised = typeof value === 'string' ? value.replace(/\s+/g, '').toLowerCase() : '';
  if (!FINGERPRINT_RE.test(normalised))
    throw new CryptoError('invalid-fingerprint', 'a fingerprint is 40 hex characters');
  return normalised as Fingerprint;
}

/** `ABCD 1234 …`: 10 groups of 4 upper-case hex digits, as people read them aloud. */
export function formatFingerprint(fingerprint: string): string {
  const fp = parseFingerprint(fingerprint);
  return (fp.toUpperCase().match(/.{4}/g) ?? []).join(' ');
}

function hexToBytes(hex: string): Uint8Array {
  const out = new Uint8Array(hex.length / 2);
  for (let i = 0; i < out.length; i++) out[i] = parseInt(hex.slice(i * 2, i * 2 + 2), 16);
  return out;
}

/** Iterations of SHA-512 per half, as Signal's numeric fingerprint (makes partial-collision search costly). */
const SAFETY_ITERATIONS = 5200;

async function safetyHalf(fp: Fingerprint): Promise<string> {
  const fpBytes = hexToBytes(fp);
  // hash-wasm's synchronous hasher: 5200 awaited WebCrypto digests took ~0.4 s; this takes ~10 ms.
  const sha512 = await createSHA512();
  let hash = concatBytes(utf8('medseal/v1/safety-number'), fpBytes);
  for (let i = 0; i < SAFETY_ITERATIONS; i++) {
    sha512.init();
    sha512.update(hash);
    sha512.update(fpBytes);
    hash = sha512.digest('binary');
  }
  let digits = '';
  // 6 chunks of 5 bytes -> 5 decimal digits each (Signal's encoding): 30 digits per key.
  for (let chunk = 0; chunk < 6; chunk++) {
    let n = 0;
    for (let j = 0; j < 5; j++) n = n * 256 + (hash[chunk * 5 + j] ?? 0);
    digits += String(n % 100000).padStart(5, '0');
  }
  return digits;
}

/**
 * The safety number for a pair of keys: 60 digits, the same whichever side computes it (the two
 * 30-digit halves are sorted). Compare it aloud or by QR to rule out key substitution.
 * Throws `invalid-fingerprint`.
 */
export async function safetyNumber(a: string, b: string): Promise<string> {
  const halves = await Promise.all([
    safetyHalf(parseFingerprint(a)),
    safetyHalf(parseFingerprint(b)),
  ]);
  halves.sort();
  return halves.join('');
}

/**
 * What the QR code on `shownBy`'s screen says, for `scannedBy` to scan: both full fingerprints,
 * in that order. Directional, so a code scanned off one's own screen (a reflection, a photo of
 * it, a page showing it back) is told apart from the other person's: the scanning side expects
 * `safetyNumberQrPayload(theirs, mine)` byte for byte. (v1 was the same for both sides.)
 * Throws `invalid-fingerprint`.
 */
export function safetyNumberQrPayload(shownBy: string, scannedBy: string): string {
  return `medseal-safety:v2:${parseFingerprint(shownBy)}:${parseFingerprint(scannedBy)}`;
}
