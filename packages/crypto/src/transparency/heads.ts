// Signed tree heads (DESIGN §14). Ed25519 through @noble/curves: a raw 64-byte signature over a
// fixed binary layout is all a head needs, and a log key is a 32-byte seed that fits a config
// variable (an OpenPGP key would bring armor, packets and expiry to sign three numbers).
import { ed25519 } from '@noble/curves/ed25519.js';
import { CryptoError } from '../errors';
import { concatBytes, fromBase64Url, randomBytes, toBase64Url, utf8 } from '../encoding';
import { HASH_BYTES } from './merkle';

/** The version the log signs now: v2 adds the subject map's root (issue 12). */
export const TREE_HEAD_VERSION = 2;

/** What the log signs: the tree of `size` leaves has `root` (hex), as of `timestamp` (ms). */
interface TreeHeadBase {
  size: number;
  root: string;
  timestamp: number;
}

/**
 * A head from before the subject map: still checked where one was kept (an account state, a
 * record or grant's gossip), never enough to check a subject's listing.
 */
export interface TreeHeadV1 extends TreeHeadBase {
  v: 1;
}

/** A head that also signs the root of the subject map of the same tree (map.ts). */
export interface TreeHeadV2 extends TreeHeadBase {
  v: typeof TREE_HEAD_VERSION;
  mapRoot: string;
}

export type TreeHead = TreeHeadV1 | TreeHeadV2;

/** A head with its Ed25519 signature over headSigningBytes(), base64url. */
export type SignedTreeHead = TreeHead & { signature: string };

/** The log's key pair: 32-byte seed and public key, base64url. */
export interface LogKeyPair {
  secretKey: string;
  publicKey: string;
}

const HEAD_CONTEXT = { 1: utf8('medseal/kt/v1/tree-head\0'), 2: utf8('medseal/kt/v2/tree-head\0') };
const HEX_HASH = /^[0-9a-f]{64}$/;

export function u64(n: number): Uint8Array {
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
  if (head.v !== 1 && head.v !== TREE_HEAD_VERSION) {
    throw new CryptoError(
      'unsupported-format',
      `tree head version ${String((head as { v: unknown }).v)} is not supported`,
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
  if (head.v === TREE_HEAD_VERSION) hexToBytes(head.mapRoot);
}

const SIGNATURE = /^[A-Za-z0-9_-]{86}$/;

/**
 * A signed head carried inside other signed data (the account state, a record envelope, a
 * grant): exactly the fields of its version, a valid shape, a signature of the right form
 * (whether the log made it is for verifyTreeHead). Returns null for anything else.
 */
export function parseSignedTreeHead(value: unknown): SignedTreeHead | null {
  if (typeof value !== 'object' || value === null || Array.isArray(value)) return null;
  const h = value as Record<string, unknown>;
  const keys = Object.keys(h).sort().join(',');
  const expected =
    h.v === TREE_HEAD_VERSION
      ? 'mapRoot,root,signature,size,timestamp,v'
      : 'root,signature,size,timestamp,v';
  if (keys !== expected) return null;
  if (typeof h.signature !== 'string' || !SIGNATURE.test(h.signature)) return null;
  try {
    checkHeadShape(h as unknown as TreeHead);
  } catch {
    return null;
  }
  const base = {
    size: h.size as number,
    root: h.root as string,
    timestamp: h.timestamp as number,
    signature: h.signature,
  };
  return h.v === TREE_HEAD_VERSION
    ? { v: TREE_HEAD_VERSION, ...base, mapRoot: h.mapRoot as string }
    : { v: 1, ...base };
}

/**
 * The exact bytes a head's signature covers: context ‖ size ‖ timestamp ‖ root, then the map
 * root in v2 (whose context differs, so a v2 signature never reads as a v1 one).
 */
export function headSigningBytes(head: TreeHead): Uint8Array {
  checkHeadShape(head);
  const common = [u64(head.size), u64(head.timestamp), hexToBytes(head.root)];
  return head.v === TREE_HEAD_VERSION
    ? concatBytes(HEAD_CONTEXT[2], ...common, hexToBytes(head.mapRoot))
    : concatBytes(HEAD_CONTEXT[1], ...common);
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

/** Signs a head with the log's secret key (server side); the head comes back with its signature. */
export function signTreeHead<T extends TreeHead>(
  head: T,
  secretKey: string,
): T & { signature: string } {
  const signature = toBase64Url(
    ed25519.sign(headSigningBytes(head), keyBytes(secretKey, 'log secret key')),
  );
  const base = { size: head.size, root: head.root, timestamp: head.timestamp, signature };
  // Exactly the fields of its version (a head passed in with an old signature loses it).
  const signed: SignedTreeHead =
    head.v === TREE_HEAD_VERSION
      ? { v: head.v, ...base, mapRoot: head.mapRoot }
      : { v: head.v, ...base };
  return signed as T & { signature: string };
}

/**
 * The map root a head signs, for checking a subject's listing.
 * @throws CryptoError `kt-no-map` for a head from before the map (v1).
 */
export function headMapRoot(head: SignedTreeHead): string {
  if (head.v !== TREE_HEAD_VERSION)
    throw new CryptoError(
      'kt-no-map',
      'the tree head is from before the subject map: it proves no listing complete',
    );
  return head.mapRoot;
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
