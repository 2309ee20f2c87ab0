// An in-memory log for tests and the bench: every complete node of a tree, built from leaf
// hashes the way the server's store builds it, and proofs assembled with the shared plans.
import {
  assemblePlan,
  consistencyPlan,
  inclusionPlan,
  nodeHash,
  nodeKey,
  rootPlan,
  type NodeId,
} from '../src/transparency';
import { foldRange } from '../src/transparency/merkle';
import {
  MemoryMap,
  bindingLeafHash,
  parseBinding,
  signTreeHead,
  subjectOf,
  type MapProof,
  type ProvenBinding,
  type SignedTreeHead,
} from '../src/transparency';
import { toHex } from '../src/encoding';

export interface MemoryLog {
  size: number;
  append(leafHash: Uint8Array): void;
  root(size?: number): Uint8Array;
  inclusion(index: number, size?: number): Uint8Array[];
  consistency(size1: number, size2?: number): Uint8Array[];
}

export function memoryLog(leafHashes: Iterable<Uint8Array> = []): MemoryLog {
  const nodes = new Map<string, Uint8Array>();
  const lookup = (node: NodeId): Uint8Array => {
    const h = nodes.get(nodeKey(node));
    if (h === undefined) throw new Error(`missing node ${nodeKey(node)}`);
    return h;
  };
  const log: MemoryLog = {
    size: 0,
    append(leaf) {
      let index = log.size;
      let h = leaf;
      nodes.set(nodeKey({ level: 0, index }), h);
      for (let level = 1; index % 2 === 1; level++) {
        h = nodeHash(lookup({ level: level - 1, index: index - 1 }), h);
        index = Math.floor(index / 2);
        nodes.set(nodeKey({ level, index }), h);
      }
      log.size++;
    },
    root: (size = log.size) => foldRange(rootPlan(size).map(lookup)),
    inclusion: (index, size = log.size) => assemblePlan(inclusionPlan(index, size), lookup),
    consistency: (size1, size2 = log.size) => assemblePlan(consistencyPlan(size1, size2), lookup),
  };
  for (const leaf of leafHashes) log.append(leaf);
  return log;
}

/** The subject map of a log of binding texts, with its root at every size. */
export interface MemoryKtMap {
  /** roots[size]: the map root of the first `size` leaves. */
  roots: string[];
  proof(subject: string, size?: number): Promise<MapProof>;
}

export async function memoryKtMap(leaves: readonly string[]): Promise<MemoryKtMap> {
  const map = new MemoryMap();
  const roots = [map.root];
  for (const [index, data] of leaves.entries())
    roots.push(await map.appendLeaf(subjectOf(parseBinding(data)), index, bindingLeafHash(data)));
  return {
    roots,
    proof: (subject, size = leaves.length) => map.proof(subject, roots[size]),
  };
}

/** A whole log of binding texts in memory: signed v2 heads, inclusion and map lookup proofs. */
export interface MemoryKt {
  log: MemoryLog;
  map: MemoryKtMap;
  head(size?: number, timestamp?: number): SignedTreeHead;
  proven(index: number, size?: number): ProvenBinding;
  mapProof(subject: string, size?: number): Promise<MapProof>;
}

export async function memoryKt(leaves: readonly string[], logSecretKey: string): Promise<MemoryKt> {
  const log = memoryLog(leaves.map(bindingLeafHash));
  const map = await memoryKtMap(leaves);
  return {
    log,
    map,
    head: (size = leaves.length, timestamp = 1_000) =>
      signTreeHead(
        { v: 2, size, root: toHex(log.root(size)), mapRoot: map.roots[size] ?? '', timestamp },
        logSecretKey,
      ),
    proven: (index, size = leaves.length) => ({
      leaf: { index, data: leaves[index] ?? '' },
      proof: log.inclusion(index, size).map(toHex),
    }),
    mapProof: (subject, size) => map.proof(subject, size),
  };
}
