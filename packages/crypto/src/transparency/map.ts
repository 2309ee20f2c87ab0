// The subject map of the key-transparency log (issue 12, docs/decisions.md "A subject's listing
// is proven complete"): a sparse Merkle tree keyed by SHA-256 of the subject (a user id, or
// `team:<id>`), whose entry for a subject commits to how many leaves the log holds for it, the
// index of the latest, and a hash chain over all of them (index and leaf hash, in log order).
// Every signed head (v2) signs the map's root next to the log's root, so a listing of a subject's
// leaves is checked against the map instead of being the server's word.
//
// Shape (a binary sparse Merkle tree of depth 256, compacted as in Diem's Jellyfish Merkle tree):
// an empty subtree hashes to 32 zero bytes; a subtree holding one entry is that entry's leaf,
// hashed SHA-256(0x00 ‖ key ‖ count ‖ lastIndex ‖ chain); any other subtree is SHA-256(0x01 ‖
// left ‖ right). Bit i of the key (most significant first) chooses the side at depth i. So one
// map holds one tree, the auditor recomputes it from the leaves alone, and a lookup proof is the
// path's siblings (about log2 of the number of subjects) with the entry where the path ends.
import { sha256 } from '@noble/hashes/sha2.js';
import { CryptoError } from '../errors';
import { bytesEqual, concatBytes, toHex, utf8 } from '../encoding';
import { hexToBytes, u64 } from './heads';
import { HASH_BYTES } from './merkle';

/** Key length in bits: a path is at most this deep. */
export const MAP_DEPTH = 256;

/** What the map holds for a subject. */
export interface MapValue {
  /** How many leaves the log holds for the subject. */
  count: number;
  /** The index of its latest leaf. */
  lastIndex: number;
  /** chain_k = SHA-256(context ‖ chain_{k-1} ‖ u64 index ‖ leaf hash), chain_0 = zeros (hex). */
  chain: string;
}

/** An entry of the map: a subject's key (hex SHA-256) and its value. */
export interface MapEntry {
  key: string;
  value: MapValue;
}

/** A stored node: an entry (a subtree with one subject) or two children by hash (hex). */
export type MapNode = { entry: MapEntry } | { left: string; right: string };

/**
 * A lookup proof: the siblings of the path from the root down (root side first) and what ends
 * the path: the subject's own entry, another subject's entry whose key shares the path (the
 * subject is absent), or null for an empty subtree (absent).
 */
export interface MapProof {
  entry: MapEntry | null;
  siblings: string[];
}

/** Root of the empty map (no subject has a leaf). */
export const EMPTY_MAP_ROOT = '0'.repeat(2 * HASH_BYTES);

const KEY_CONTEXT = utf8('medseal/kt/v1/map-key\0');
const CHAIN_CONTEXT = utf8('medseal/kt/v1/map-chain\0');
const ENTRY_PREFIX = new Uint8Array([0x00]);
const NODE_PREFIX = new Uint8Array([0x01]);

/** The map key of a subject as the log lists it (a user id, or teamSubject(teamId)). */
export function mapKey(subject: string): string {
  return toHex(sha256(concatBytes(KEY_CONTEXT, utf8(subject))));
}

/** The subject's value once leaf `index` (with RFC 9162 leaf hash `leafHash`) is appended for it. */
export function mapValueAfter(
  previous: MapValue | null,
  index: number,
  leafHash: Uint8Array,
): MapValue {
  const chain = previous === null ? new Uint8Array(HASH_BYTES) : hexToBytes(previous.chain);
  return {
    count: (previous?.count ?? 0) + 1,
    lastIndex: index,
    chain: toHex(sha256(concatBytes(CHAIN_CONTEXT, chain, u64(index), leafHash))),
  };
}

function checkValue(value: MapValue): void {
  const counts = [value.count, value.lastIndex];
  if (!counts.every((n) => Number.isSafeInteger(n) && n >= 0) || value.count === 0)
    throw new CryptoError('kt-malformed', 'a map entry holds a count that is not one');
  hexToBytes(value.chain);
}

function entryHash(entry: MapEntry): Uint8Array {
  checkValue(entry.value);
  const { count, lastIndex, chain } = entry.value;
  return sha256(
    concatBytes(ENTRY_PREFIX, hexToBytes(entry.key), u64(count), u64(lastIndex), hexToBytes(chain)),
  );
}

function pairHash(left: Uint8Array, right: Uint8Array): Uint8Array {
  return sha256(concatBytes(NODE_PREFIX, left, right));
}

/** The hash (hex) a node is stored and referenced by. */
export function mapNodeHash(node: MapNode): string {
  return toHex(
    'entry' in node
      ? entryHash(node.entry)
      : pairHash(hexToBytes(node.left), hexToBytes(node.right)),
  );
}

function bit(key: Uint8Array, depth: number): number {
  return ((key[depth >> 3] as number) >> (7 - (depth & 7))) & 1;
}

/** Reads a stored node by its hash (throws when the store lacks it). */
export type MapNodeSource = (hash: string) => Promise<MapNode>;

/**
 * Walks the path of `key` from `root` (server side and tests): the lookup proof of the key.
 * @throws what `get` throws; Error when the store holds a tree deeper than a key.
 */
export async function mapLookup(root: string, key: string, get: MapNodeSource): Promise<MapProof> {
  const path = hexToBytes(key);
  const siblings: string[] = [];
  let at = root;
  for (let depth = 0; at !== EMPTY_MAP_ROOT; depth++) {
    const node = await get(at);
    if ('entry' in node) return { entry: node.entry, siblings };
    if (depth >= MAP_DEPTH) throw new Error('kt: the map is deeper than a key');
    const right = bit(path, depth) === 1;
    siblings.push(right ? node.left : node.right);
    at = right ? node.right : node.left;
  }
  return { entry: null, siblings };
}

/**
 * Sets the value of `key` (server side, the auditor and tests): the new root and the nodes to
 * store (every node on the new path; nodes are addressed by hash, so storing one twice is harmless).
 */
export async function mapInsert(
  root: string,
  entry: MapEntry,
  get: MapNodeSource,
): Promise<{ root: string; nodes: { hash: string; node: MapNode }[] }> {
  const path = hexToBytes(entry.key);
  const proof = await mapLookup(root, entry.key, get);
  const nodes: { hash: string; node: MapNode }[] = [];
  const put = (node: MapNode): string => {
    const hash = mapNodeHash(node);
    nodes.push({ hash, node });
    return hash;
  };
  let depth = proof.siblings.length;
  let h = put({ entry });
  const other = proof.entry;
  if (other !== null && other.key !== entry.key) {
    // Another subject ends this path: split down to the first bit where the keys differ.
    const otherPath = hexToBytes(other.key);
    let split = depth;
    while (bit(path, split) === bit(otherPath, split)) split++;
    const otherHash = mapNodeHash({ entry: other });
    h = put(bit(path, split) === 1 ? { left: otherHash, right: h } : { left: h, right: otherHash });
    for (let d = split - 1; d >= depth; d--)
      h = put(
        bit(path, d) === 1
          ? { left: EMPTY_MAP_ROOT, right: h }
          : { left: h, right: EMPTY_MAP_ROOT },
      );
  }
  while (depth > 0) {
    depth--;
    const sibling = proof.siblings[depth] as string;
    h = put(bit(path, depth) === 1 ? { left: sibling, right: h } : { left: h, right: sibling });
  }
  return { root: h, nodes };
}

/**
 * Checks a lookup proof for `subject` against a signed map root (the client and the auditor).
 * @returns the subject's value, or null when the map proves it has no leaf.
 * @throws CryptoError `kt-bad-proof` when the proof does not lead to the root or does not fit
 *   the subject's path; `kt-malformed` on a proof of the wrong shape.
 */
export function verifyMapLookup(
  mapRoot: string,
  subject: string,
  proof: MapProof,
): MapValue | null {
  if (typeof proof !== 'object' || proof === null || !Array.isArray(proof.siblings))
    throw new CryptoError('kt-malformed', 'a map proof must have siblings');
  if (proof.siblings.length > MAP_DEPTH)
    throw new CryptoError('kt-bad-proof', 'the map proof is deeper than a key');
  const key = mapKey(subject);
  const path = hexToBytes(key);
  const depth = proof.siblings.length;
  let h: Uint8Array;
  if (proof.entry === null) {
    h = new Uint8Array(HASH_BYTES);
  } else {
    const other = hexToBytes(proof.entry.key);
    for (let d = 0; d < depth; d++) {
      if (bit(other, d) !== bit(path, d))
        throw new CryptoError(
          'kt-bad-proof',
          'the map proof ends in an entry off the subject’s path',
        );
    }
    h = entryHash(proof.entry);
  }
  for (let d = depth - 1; d >= 0; d--) {
    const sibling = hexToBytes(proof.siblings[d] as string);
    h = bit(path, d) === 1 ? pairHash(sibling, h) : pairHash(h, sibling);
  }
  if (!bytesEqual(h, hexToBytes(mapRoot)))
    throw new CryptoError('kt-bad-proof', 'the map proof does not lead to the signed map root');
  return proof.entry?.key === key ? proof.entry.value : null;
}

/**
 * Whether a listing of a subject's leaves (each already proven in the log and of the subject)
 * is the whole of what the map holds for it.
 * @returns how many of the subject's leaves the listing withholds (0: complete).
 * @throws CryptoError `kt-map-mismatch` when the listing holds leaves the map does not (more
 *   leaves, or other ones) or ends elsewhere than the map's latest leaf, `kt-malformed` when
 *   it is not in log order.
 */
export function withheldLeaves(
  value: MapValue | null,
  listing: readonly { index: number; leafHash: Uint8Array }[],
): number {
  let chain: MapValue | null = null;
  let last = -1;
  for (const leaf of listing) {
    if (leaf.index <= last)
      throw new CryptoError('kt-malformed', 'a listing must be in log order, each leaf once');
    last = leaf.index;
    chain = mapValueAfter(chain, leaf.index, leaf.leafHash);
  }
  const count = value?.count ?? 0;
  if (listing.length < count) return count - listing.length;
  // The last index too: lookups by others take the subject's latest leaf from it, so an entry
  // whose count and chain are her own leaves while lastIndex names another leaf is refused here.
  if (
    listing.length > count ||
    chain?.chain !== value?.chain ||
    chain?.lastIndex !== value?.lastIndex
  )
    throw new CryptoError('kt-map-mismatch', 'the listing holds leaves the log’s map does not');
  return 0;
}

/**
 * A whole map in memory (the auditor, tests, benches), built entry by entry. Nodes are kept
 * by hash and never dropped, so a proof against any earlier root still works.
 */
export class MemoryMap {
  private readonly nodes = new Map<string, MapNode>();
  private readonly values = new Map<string, MapValue>();
  root = EMPTY_MAP_ROOT;

  readonly get: MapNodeSource = (hash) => {
    const node = this.nodes.get(hash);
    return node
      ? Promise.resolve(node)
      : Promise.reject(new Error(`kt: map node ${hash} is not stored`));
  };

  /** Sets one entry; returns the new root. */
  async set(entry: MapEntry): Promise<string> {
    const next = await mapInsert(this.root, entry, this.get);
    for (const { hash, node } of next.nodes) this.nodes.set(hash, node);
    this.values.set(entry.key, entry.value);
    this.root = next.root;
    return next.root;
  }

  /** Counts leaf `index` (RFC 9162 hash `leafHash`) for `subject`; returns the new root. */
  appendLeaf(subject: string, index: number, leafHash: Uint8Array): Promise<string> {
    return this.appendToKey(mapKey(subject), index, leafHash);
  }

  /** appendLeaf by the subject's map key (an auditor sees keys, not subjects). */
  appendToKey(key: string, index: number, leafHash: Uint8Array): Promise<string> {
    return this.set({ key, value: mapValueAfter(this.values.get(key) ?? null, index, leafHash) });
  }

  /** Every entry (for an auditor to keep between runs and set again). */
  entries(): MapEntry[] {
    return [...this.values].map(([key, value]) => ({ key, value }));
  }

  /** The lookup proof of `subject` under `root` (by default the current one). */
  proof(subject: string, root = this.root): Promise<MapProof> {
    return mapLookup(root, mapKey(subject), this.get);
  }
}
