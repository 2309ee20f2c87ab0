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
