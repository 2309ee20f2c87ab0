// Signed tree heads (DESIGN §14). Ed25519 through @noble/curves: a raw 64-byte signature over a
// fixed binary layout is all a head needs, and a log key is a 32-byte seed that fits a config
// variable (an OpenPGP key would bring armor, packets and expiry to sign three numbers).
import { ed25519 } from '@noble/curves/ed25519.js';
import { CryptoError } from '../errors';
import { concatBytes, fromBase64Url, randomBytes, toBase64Url, utf8 } from '../encoding';
import { HASH_BYTES } from './merkle';

export const TREE_HEAD_VERSION = 1;

/** What the log signs: the tree of `size` leaves has `root` (hex), as of `timestamp` (ms). */
export interface TreeHead {
  v: typeof TREE_HEAD_VERSION;
  size: number;
  root: string;
  timestamp: number;
}

export interface SignedTreeHead extends TreeHead {
  /** Ed25519 over headSigningBytes(), base64url. */
  signature: string;
}

/** The log's key pair: 32-byte seed and public key, base64url. */
export interface LogKeyPair {
  secretKey: string;
  publicKey: string;
}

const HEAD_CONTEXT = utf8('medseal/kt/v1/tree-head\0');
const HEX_HASH = /^[0-9a-f]{64}$/;

function u64(n: number): Uint8Array {
  const out = new Uint8Array(8);
  new DataView(out.buffer).setBigUint64(0, BigInt(n));
  return out;
}

export function hexToBytes(hex: string): Uint8Array {
  if (!HEX_HASH.test(hex))
    throw new CryptoError('kt-malformed', 'a hash must be 64 lowercase hex digits');
  const out = new Uint8Array(HASH_BYTES);
  for (let i = 0; i < HASH_BYTES; i++) out[i] = parseInt(hex.slice(i * 2, i * 2 + 2), 16);
  return out;
}

/**
 * Checks the shape of a head (version, safe sizes, a 32-byte root).
 * @throws CryptoError `unsupported-format` on another version, `kt-malformed` otherwise.
 */
export function checkHeadShape(head: TreeHead): void {
  if (head.v !== TREE_HEAD_VERSION) {
    throw new CryptoError(
      'unsupported-format',
      `tree head version ${String(head.v)} is not supported`,
    );
  }
  for (const [name, n] of [
    ['size', head.size],
    ['timestamp', head.timestamp],
  ] as const) {
    if (!Number.isSafeInteger(n) || n < 0)
      throw new CryptoError('kt-malformed', `tree head ${name} is not a count`);
  }
  hexToBytes(head.root);
}

const SIGNATURE = /^[A-Za-z0-9_-]{86}$/;

/**
 * A signed head carried inside other signed data (the account state, a record envelope, a
 * grant): exactly the five fields, a valid shape, a signature of the right form (whether the
 * log made it is for verifyTreeHead). Returns null for anything else.
 */
export function parseSignedTreeHead(value: unknown): SignedTreeHead | null {
  if (typeof value !== 'object' || value === null || Array.isArray(value)) return null;
  const h = value as Record<string, unknown>;
  const keys = Object.keys(h).sort().join(',');
  if (keys !== 'root,signature,size,timestamp,v') return null;
  if (typeof h.signature !== 'string' || !SIGNATURE.test(h.signature)) return null;
  try {
    checkHeadShape(h as unknown as TreeHead);
  } catch {
    return null;
  }
  return {
    v: TREE_HEAD_VERSION,
    size: h.size as number,
    root: h.root as string,
    timestamp: h.timestamp as number,
    signature: h.signature,
  };
}

/** The exact bytes a head's signature covers: context ‖ size ‖ timestamp ‖ root. */
export function headSigningBytes(head: TreeHead): Uint8Array {
  checkHeadShape(head);
  return concatBytes(HEAD_CONTEXT, u64(head.size), u64(head.timestamp), hexToBytes(head.root));
}

function keyBytes(text: string, what: string): Uint8Array {
  const bytes = fromBase64Url(text);
  if (bytes === null || bytes.length !== 32)
    throw new CryptoError('kt-malformed', `${what} must be 32 bytes, base64url`);
  return bytes;
}

/** A new log key (the server's config generates one once in embedded dev mode). */
export function generateLogKey(): LogKeyPair {
  const seed = randomBytes(32);
  return { secretKey: toBase64Url(seed), publicKey: toBase64Url(ed25519.getPublicKey(seed)) };
}

/** The public half of a log key seed. @throws CryptoError `kt-malformed` on a bad seed. */
export function logPublicKeyOf(secretKey: string): string {
  return toBase64Url(ed25519.getPublicKey(keyBytes(secretKey, 'log secret key')));
}

/** Signs a head with the log's secret key (server side). */
export function signTreeHead(head: TreeHead, secretKey: string): SignedTreeHead {
  const signature = ed25519.sign(headSigningBytes(head), keyBytes(secretKey, 'log secret key'));
  return {
    v: head.v,
    size: head.size,
    root: head.root,
    timestamp: head.timestamp,
    signature: toBase64Url(signature),
  };
}

/**
 * Checks a head's shape and its signature by the log key shipped with the app.
 * @throws CryptoError `kt-bad-head-signature`; `kt-malformed` / `unsupported-format` on shape.
 */
export function verifyTreeHead(head: SignedTreeHead, logPublicKey: string): void {
  const bytes = headSigningBytes(head);
  const signature = fromBase64Url(head.signature);
  let ok = false;
  try {
    ok =
      signature !== null &&
      signature.length === 64 &&
      ed25519.verify(signature, bytes, keyBytes(logPublicKey, 'log public key'));
  } catch (cause) {
    throw new CryptoError('kt-bad-head-signature', 'the tree head signature cannot be checked', {
      cause,
    });
  }
  if (!ok)
    throw new CryptoError('kt-bad-head-signature', 'the tree head is not signed by the log key');
}
