// The Merkle tree of the key-transparency log (DESIGN §14): RFC 9162 §2.1 hashing over SHA-256,
// inclusion and consistency proofs. One implementation serves both sides: the server builds
// proofs from its stored nodes with the plans below; clients and the auditor verify them.
import { sha256 } from '@noble/hashes/sha2.js';
import { CryptoError } from '../errors';
import { bytesEqual, concatBytes } from '../encoding';

export const HASH_BYTES = 32;

const LEAF_PREFIX = new Uint8Array([0x00]);
const NODE_PREFIX = new Uint8Array([0x01]);

/** RFC 9162 §2.1.1: MTH({d(0)}) = SHA-256(0x00 || d(0)). */
export function leafHash(data: Uint8Array): Uint8Array {
  return sha256(concatBytes(LEAF_PREFIX, data));
}

/** RFC 9162 §2.1.1: SHA-256(0x01 || left || right). */
export function nodeHash(left: Uint8Array, right: Uint8Array): Uint8Array {
  return sha256(concatBytes(NODE_PREFIX, left, right));
}

/** MTH of the empty tree: SHA-256 of the empty string. */
export const EMPTY_ROOT: Uint8Array = sha256(new Uint8Array(0));

/**
 * A complete, aligned subtree: leaves [index * 2^level, (index + 1) * 2^level). These are the
 * only hashes a log stores; every other subtree hash is folded from them.
 */
export interface NodeId {
  level: number;
  index: number;
}

/** One element of a proof: the hash of the subtree over these nodes, folded right to left. */
export type ProofStep = readonly NodeId[];

function assertSize(n: number, what: string): void {
  if (!Number.isSafeInteger(n) || n < 0) {
    throw new CryptoError('kt-malformed', `${what} must be a non-negative safe integer`);
  }
}

/** Largest power of two strictly below n (n >= 2), as RFC 9162 §2.1.1 splits a tree. */
function splitPoint(n: number): number {
  let k = 1;
  while (k * 2 < n) k *= 2;
  return k;
}

function isPowerOfTwo(n: number): boolean {
  return n > 0 && 2 ** Math.round(Math.log2(n)) === n;
}

/**
 * The complete subtrees whose fold is MTH(D[start:end)). In RFC 9162's recursion every range is
 * either a complete aligned subtree or the right edge of one, so the left part of each split is
 * complete (start is a multiple of its size).
 */
export function rangeNodes(start: number, end: number): ProofStep {
  const nodes: NodeId[] = [];
  let a = start;
  while (end - a > 0 && !isPowerOfTwo(end - a)) {
    const k = splitPoint(end - a);
    nodes.push({ level: Math.log2(k), index: a / k });
    a += k;
  }
  if (end > a) nodes.push({ level: Math.log2(end - a), index: a / (end - a) });
  return nodes;
}

/** Folds the hashes of rangeNodes() (left to right) into the subtree's hash. */
export function foldRange(hashes: readonly Uint8Array[]): Uint8Array {
  const last = hashes[hashes.length - 1];
  if (last === undefined) return EMPTY_ROOT;
  let h = last;
  for (let i = hashes.length - 2; i >= 0; i--) h = nodeHash(hashes[i] as Uint8Array, h);
  return h;
}

/**
 * The hashes of rootPlan(size + 1) from those of rootPlan(size) and leaf `size`'s hash: how an
 * auditor follows the log's root leaf by leaf, keeping log2(size) hashes.
 */
export function extendFrontier(
  frontier: readonly Uint8Array[],
  size: number,
  leaf: Uint8Array,
): Uint8Array[] {
  assertSize(size, 'tree size');
  const out = [...frontier];
  let h = leaf;
  for (let n = size; n % 2 === 1; n = Math.floor(n / 2)) {
    const left = out.pop();
    if (left === undefined)
      throw new CryptoError('kt-malformed', 'the frontier is not of this size');
    h = nodeHash(left, h);
  }
  out.push(h);
  return out;
}

/** The nodes whose fold is the root of a tree of `size` leaves. */
export function rootPlan(size: number): ProofStep {
  assertSize(size, 'tree size');
  return rangeNodes(0, size);
}

/** RFC 9162 §2.1.3.1 PATH(m, D[start:end)), as ranges, leaf side first. */
function pathRanges(m: number, start: number, end: number, out: [number, number][]): void {
  const n = end - start;
  if (n <= 1) return;
  const k = splitPoint(n);
  if (m < k) {
    pathRanges(m, start, start + k, out);
    out.push([start + k, end]);
  } else {
    pathRanges(m - k, start + k, end, out);
    out.push([start, start + k]);
  }
}

/** RFC 9162 §2.1.4.1 SUBPROOF(m, D[start:end), b), as ranges. */
function subproofRanges(
  m: number,
  start: number,
  end: number,
  b: boolean,
  out: [number, number][],
): void {
  const n = end - start;
  if (m === n) {
    if (!b) out.push([start, end]);
    return;
  }
  const k = splitPoint(n);
  if (m <= k) {
    subproofRanges(m, start, start + k, b, out);
    out.push([start + k, end]);
  } else {
    subproofRanges(m - k, start + k, end, false, out);
    out.push([start, start + k]);
  }
}

/** What the log reads to build the inclusion proof of leaf `index` in a tree of `size`. */
export function inclusionPlan(index: number, size: number): ProofStep[] {
  assertSize(index, 'leaf index');
  assertSize(size, 'tree size');
  if (index >= size) throw new CryptoError('kt-malformed', 'leaf index is outside the tree');
  const ranges: [number, number][] = [];
  pathRanges(index, 0, size, ranges);
  return ranges.map(([a, b]) => rangeNodes(a, b));
}

/** What the log reads to build the consistency proof from `size1` to `size2` (RFC 9162 §2.1.4). */
export function consistencyPlan(size1: number, size2: number): ProofStep[] {
  assertSize(size1, 'first tree size');
  assertSize(size2, 'second tree size');
  if (size1 > size2)
    throw new CryptoError('kt-malformed', 'first tree size is larger than the second');
  if (size1 === 0 || size1 === size2) return [];
  const ranges: [number, number][] = [];
  subproofRanges(size1, 0, size2, true, ranges);
  return ranges.map(([a, b]) => rangeNodes(a, b));
}

/** Stable text key of a node, for maps and stored ids. */
export function nodeKey(node: NodeId): string {
  return `${node.level}:${node.index}`;
}

/** Turns a plan into a proof with the stored node hashes (`lookup` throws when one is missing). */
export function assemblePlan(
  plan: readonly ProofStep[],
  lookup: (node: NodeId) => Uint8Array,
): Uint8Array[] {
  return plan.map((step) => foldRange(step.map(lookup)));
}

function checkHashes(hashes: readonly Uint8Array[], what: string): void {
  for (const h of hashes) {
    if (!(h instanceof Uint8Array) || h.length !== HASH_BYTES) {
      throw new CryptoError('kt-malformed', `${what} holds a hash that is not ${HASH_BYTES} bytes`);
    }
  }
}

/**
 * RFC 9162 §2.1.3.2: recomputes the root from a leaf hash and its inclusion path.
 * @throws CryptoError `kt-bad-proof` when the path does not fit the index and size;
 *   `kt-malformed` on a hash of the wrong length.
 */
export function rootFromInclusionProof(
  index: number,
  size: number,
  leaf: Uint8Array,
  proof: readonly Uint8Array[],
): Uint8Array {
  assertSize(index, 'leaf index');
  assertSize(size, 'tree size');
  checkHashes([leaf, ...proof], 'inclusion proof');
  if (index >= size) throw new CryptoError('kt-bad-proof', 'leaf index is outside the tree');
  let fn = index;
  let sn = size - 1;
  let r = leaf;
  for (const p of proof) {
    if (sn === 0)
      throw new CryptoError('kt-bad-proof', 'inclusion proof is longer than the tree is deep');
    if (fn % 2 === 1 || fn === sn) {
      r = nodeHash(p, r);
      if (fn % 2 === 0) {
        while (fn % 2 === 0 && fn !== 0) {
          fn = Math.floor(fn / 2);
          sn = Math.floor(sn / 2);
        }
      }
    } else {
      r = nodeHash(r, p);
    }
    fn = Math.floor(fn / 2);
    sn = Math.floor(sn / 2);
  }
  if (sn !== 0)
    throw new CryptoError('kt-bad-proof', 'inclusion proof is shorter than the tree is deep');
  return r;
}

/**
 * RFC 9162 §2.1.3.2 in full.
 * @throws CryptoError `kt-bad-proof` unless the leaf is at `index` in the tree with `root`.
 */
export function verifyInclusion(
  index: number,
  size: number,
  leaf: Uint8Array,
  proof: readonly Uint8Array[],
  root: Uint8Array,
): void {
  checkHashes([root], 'tree root');
  if (!bytesEqual(rootFromInclusionProof(index, size, leaf, proof), root)) {
    throw new CryptoError('kt-bad-proof', 'inclusion proof does not lead to the signed root');
  }
}

/**
 * RFC 9162 §2.1.4.2: the tree (size2, root2) extends the tree (size1, root1).
 * @throws CryptoError `kt-inconsistent` when it does not (a rewrite or a fork);
 *   `kt-malformed` on sizes out of order or hashes of the wrong length.
 */
export function verifyConsistency(
  size1: number,
  size2: number,
  root1: Uint8Array,
  root2: Uint8Array,
  proof: readonly Uint8Array[],
): void {
  assertSize(size1, 'first tree size');
  assertSize(size2, 'second tree size');
  checkHashes([root1, root2, ...proof], 'consistency proof');
  if (size2 < size1)
    throw new CryptoError('kt-malformed', 'first tree size is larger than the second');
  const fail = (why: string): never => {
    throw new CryptoError(
      'kt-inconsistent',
      `the log's new tree does not extend the old one: ${why}`,
    );
  };
  if (size1 === size2) {
    if (proof.length !== 0) fail('a proof between equal sizes must be empty');
    if (!bytesEqual(root1, root2)) fail('two different roots for one size');
    return;
  }
  if (size1 === 0) {
    if (proof.length !== 0) fail('a proof from the empty tree must be empty');
    return;
  }
  if (proof.length === 0) fail('empty proof');
  const path = isPowerOfTwo(size1) ? [root1, ...proof] : [...proof];
  let fn = size1 - 1;
  let sn = size2 - 1;
  while (fn % 2 === 1) {
    fn = Math.floor(fn / 2);
    sn = Math.floor(sn / 2);
  }
  const first = path[0] as Uint8Array;
  let fr = first;
  let sr = first;
  for (const c of path.slice(1)) {
    if (sn === 0) fail('proof is too long');
    if (fn % 2 === 1 || fn === sn) {
      fr = nodeHash(c, fr);
      sr = nodeHash(c, sr);
      if (fn % 2 === 0) {
        while (fn % 2 === 0 && fn !== 0) {
          fn = Math.floor(fn / 2);
          sn = Math.floor(sn / 2);
        }
      }
    } else {
      sr = nodeHash(sr, c);
    }
    fn = Math.floor(fn / 2);
    sn = Math.floor(sn / 2);
  }
  if (sn !== 0) fail('proof is too short');
  if (!bytesEqual(fr, root1)) fail('the old root is not a prefix of the new tree');
  if (!bytesEqual(sr, root2)) fail('the proof does not lead to the new root');
}
