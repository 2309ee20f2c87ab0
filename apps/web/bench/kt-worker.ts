// Runs inside a Chromium Web Worker for bench/kt.ts: times the client's verification of one
// inclusion and one consistency proof, and of one subject map lookup proof (the same
// @medseal/crypto functions the crypto worker runs).
import {
  verifyConsistency,
  verifyInclusion,
  verifyMapLookup,
  type MapProof,
} from '@medseal/crypto';

interface Job {
  runs: number;
  size: number;
  index: number;
  old: number;
  leaf: Uint8Array;
  inclusion: Uint8Array[];
  consistency: Uint8Array[];
  root: Uint8Array;
  oldRoot: Uint8Array;
  mapRoot: string;
  subject: string;
  mapProof: MapProof;
}

self.onmessage = (event: MessageEvent<Job>) => {
  const j = event.data;
  const times: number[] = [];
  for (let i = 0; i < j.runs; i++) {
    const t0 = performance.now();
    verifyInclusion(j.index, j.size, j.leaf, j.inclusion, j.root);
    verifyConsistency(j.old, j.size, j.oldRoot, j.root, j.consistency);
    times.push(performance.now() - t0);
  }
  const map: number[] = [];
  for (let i = 0; i < j.runs; i++) {
    const t0 = performance.now();
    verifyMapLookup(j.mapRoot, j.subject, j.mapProof);
    map.push(performance.now() - t0);
  }
  self.postMessage({ times, map });
};
