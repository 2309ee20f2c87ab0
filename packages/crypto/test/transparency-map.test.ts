// The subject map of the key-transparency log (issue 12): lookup and absence proofs from random
// maps verify, any single-bit change fails, the root does not depend on the order of inserts,
// and a listing is complete only when it is every leaf the map counts.
import fc from 'fast-check';
import {
  checkGossipHead,
  EMPTY_MAP_ROOT,
  generateLogKey,
  parseSignedTreeHead,
  signTreeHead,
  verifyTreeHead,
  MAP_DEPTH,
  MemoryMap,
  leafHash,
  mapKey,
  mapValueAfter,
  verifyMapLookup,
  withheldLeaves,
  type MapProof,
} from '../src';
import { toHex, utf8 } from '../src/encoding';
import { extendFrontier, foldRange } from '../src/transparency';
import { memoryLog } from './transparency-helpers';

function expectCode(fn: () => unknown, codes: string[]): void {
  let thrown: unknown;
  try {
    fn();
  } catch (error) {
    thrown = error;
  }
  expect(codes).toContain((thrown as { code?: string } | undefined)?.code);
}

/** Flips one bit of the hex digit at `at` of a hex string. */
const flipHex = (hex: string, at: number, bit: number): string =>
  hex.slice(0, at) + (parseInt(hex[at] ?? '0', 16) ^ (1 << bit)).toString(16) + hex.slice(at + 1);

/** Every proof made by changing one bit (a sibling, the entry's key, a count, its chain). */
function oneBitChanges(proof: MapProof, pick: number): MapProof[] {
  const out: MapProof[] = [];
  proof.siblings.forEach((s, i) => {
    const siblings = [...proof.siblings];
    siblings[i] = flipHex(s, pick % 64, pick % 4);
    out.push({ ...proof, siblings });
  });
  const e = proof.entry;
  if (e) {
    out.push({ ...proof, entry: { ...e, key: flipHex(e.key, pick % 64, pick % 4) } });
    out.push({
      ...proof,
      entry: { ...e, value: { ...e.value, chain: flipHex(e.value.chain, pick % 64, pick % 4) } },
    });
    out.push({
      ...proof,
      entry: { ...e, value: { ...e.value, count: e.value.count ^ (1 << (pick % 8)) } },
    });
    out.push({
      ...proof,
      entry: { ...e, value: { ...e.value, lastIndex: e.value.lastIndex ^ (1 << (pick % 8)) } },
    });
  }
  return out;
}

async function build(leaves: readonly { subject: string; index: number }[]): Promise<MemoryMap> {
  const map = new MemoryMap();
  for (const { subject, index } of leaves)
    await map.appendLeaf(subject, index, leafHash(utf8(`${subject}#${index}`)));
  return map;
}

/** Leaves of a random log: subject names from a small alphabet, so subjects repeat. */
const logArb = fc
  .array(fc.stringMatching(/^[a-f]{1,3}$/), { minLength: 0, maxLength: 40 })
  .map((subjects) => subjects.map((subject, index) => ({ subject, index })));

describe('the subject map', () => {
  it('when the map is empty, then its root is zeros and any subject is proven absent', async () => {
    const map = new MemoryMap();
    expect(map.root).toBe(EMPTY_MAP_ROOT);
    const proof = await map.proof('u-1');
    expect(proof).toEqual({ entry: null, siblings: [] });
    expect(verifyMapLookup(map.root, 'u-1', proof)).toBeNull();
  });

  it('any lookup or absence proof from a random map verifies to the subject’s value', async () => {
    await fc.assert(
      fc.asyncProperty(logArb, fc.stringMatching(/^[a-g]{1,3}$/), async (leaves, probe) => {
        const map = await build(leaves);
        const mine = leaves.filter((l) => l.subject === probe);
        const value = verifyMapLookup(map.root, probe, await map.proof(probe));
        if (mine.length === 0) {
          expect(value).toBeNull();
          return;
        }
        expect(value).toMatchObject({ count: mine.length, lastIndex: mine.at(-1)?.index });
        const listing = mine.map((l) => ({
          index: l.index,
          leafHash: leafHash(utf8(`${probe}#${l.index}`)),
        }));
        expect(withheldLeaves(value, listing)).toBe(0);
      }),
      { numRuns: 60 },
    );
  });

  it('any single-bit change to a lookup or absence proof fails', async () => {
    await fc.assert(
      fc.asyncProperty(
        logArb,
        fc.stringMatching(/^[a-g]{1,3}$/),
        fc.nat(),
        async (leaves, probe, pick) => {
          const map = await build(leaves);
          const proof = await map.proof(probe);
          for (const changed of oneBitChanges(proof, pick))
            expectCode(
              () => verifyMapLookup(map.root, probe, changed),
              ['kt-bad-proof', 'kt-malformed'],
            );
          // A proof for one subject never passes as another's, nor under another root.
          if (proof.entry !== null || proof.siblings.length > 0)
            expectCode(() => verifyMapLookup(EMPTY_MAP_ROOT, probe, proof), ['kt-bad-proof']);
        },
      ),
      { numRuns: 60 },
    );
  });

  it('when the same entries are set in another order, then the root is the same (an auditor recomputes it)', async () => {
    await fc.assert(
      fc.asyncProperty(
        fc.uniqueArray(fc.stringMatching(/^[a-z]{1,4}$/), { maxLength: 30 }),
        fc.nat(),
        async (subjects, seed) => {
          const one = await build(subjects.map((subject, index) => ({ subject, index })));
          const shuffled = new MemoryMap();
          const entries = one.entries();
          const order = entries.map((_, i) => (i * (2 * seed + 1)) % Math.max(entries.length, 1));
          const seen = new Set<number>();
          for (const i of [...order, ...entries.keys()]) {
            if (seen.has(i)) continue;
            seen.add(i);
            const e = entries[i];
            if (e) await shuffled.set(e);
          }
          expect(shuffled.root).toBe(one.root);
        },
      ),
      { numRuns: 40 },
    );
  });

  it('when an absence proof ends in an entry off the subject’s path, or is deeper than a key, then kt-bad-proof', async () => {
    const map = await build(['a', 'b', 'c', 'd'].map((subject, index) => ({ subject, index })));
    const probe = 'zz';
    const offPath = ['a', 'b', 'c', 'd'].find((s) => mapKey(s)[0] !== mapKey(probe)[0]) ?? 'a';
    const theirs = await map.proof(offPath);
    const value = verifyMapLookup(map.root, offPath, theirs);
    expect(value).not.toBeNull();
    // Their proof names their entry, whose path is not ours: it says nothing of ours.
    expectCode(() => verifyMapLookup(map.root, probe, theirs), ['kt-bad-proof']);
    const deep = {
      entry: null,
      siblings: Array.from({ length: MAP_DEPTH + 1 }, () => EMPTY_MAP_ROOT),
    };
    expectCode(() => verifyMapLookup(map.root, probe, deep), ['kt-bad-proof']);
  });
});

describe('withheldLeaves', () => {
  const h = (i: number) => leafHash(utf8(`leaf ${i}`));
  const valueOf = (indexes: number[]) =>
    indexes.reduce<ReturnType<typeof mapValueAfter> | null>(
      (v, i) => mapValueAfter(v, i, h(i)),
      null,
    );
  const listing = (indexes: number[]) => indexes.map((index) => ({ index, leafHash: h(index) }));

  it('when the listing is every leaf the map counts, then none is withheld; each one left out counts', () => {
    expect(withheldLeaves(valueOf([1, 4, 9]), listing([1, 4, 9]))).toBe(0);
    expect(withheldLeaves(valueOf([1, 4, 9]), listing([1, 9]))).toBe(1);
    expect(withheldLeaves(valueOf([1, 4, 9]), [])).toBe(3);
    expect(withheldLeaves(null, [])).toBe(0);
  });

  it('when the listing holds a leaf the map does not, or is out of order, then a stable code', () => {
    expectCode(() => withheldLeaves(valueOf([1, 4]), listing([1, 4, 9])), ['kt-map-mismatch']);
    expectCode(() => withheldLeaves(null, listing([1])), ['kt-map-mismatch']);
    expectCode(() => withheldLeaves(valueOf([1, 4]), listing([1, 5])), ['kt-map-mismatch']);
    expectCode(
      () =>
        withheldLeaves(valueOf([1, 4]), [
          { index: 1, leafHash: h(1) },
          { index: 4, leafHash: h(5) },
        ]),
      ['kt-map-mismatch'],
    );
    expectCode(() => withheldLeaves(valueOf([1, 4]), listing([4, 1])), ['kt-malformed']);
  });
});

describe('heads that sign the map (v2) next to heads from before it (v1)', () => {
  const logKey = generateLogKey();
  const root = 'ab'.repeat(32);
  const v1 = signTreeHead({ v: 1, size: 3, root, timestamp: 5 }, logKey.secretKey);
  const v2 = signTreeHead(
    { v: 2, size: 3, root, mapRoot: 'cd'.repeat(32), timestamp: 5 },
    logKey.secretKey,
  );

  it('when a v1 or v2 head is signed by the log key, then it verifies; a changed map root fails', () => {
    expect(() => verifyTreeHead(v1, logKey.publicKey)).not.toThrow();
    expect(() => verifyTreeHead(v2, logKey.publicKey)).not.toThrow();
    expectCode(
      () => verifyTreeHead({ ...v2, mapRoot: 'ce'.repeat(32) }, logKey.publicKey),
      ['kt-bad-head-signature'],
    );
    // A v2 signature never passes as the v1 head of the same tree (another context).
    expectCode(
      () => verifyTreeHead({ ...v1, signature: v2.signature }, logKey.publicKey),
      ['kt-bad-head-signature'],
    );
  });

  it('when a head is carried in signed data, then exactly its version’s fields are accepted', () => {
    expect(parseSignedTreeHead(v1)).toEqual(v1);
    expect(parseSignedTreeHead(v2)).toEqual(v2);
    expect(parseSignedTreeHead({ ...v1, mapRoot: 'cd'.repeat(32) })).toBeNull();
    const { mapRoot: _dropped, ...noMap } = v2;
    expect(parseSignedTreeHead(noMap)).toBeNull();
    expect(parseSignedTreeHead({ ...v2, mapRoot: 'zz' })).toBeNull();
  });

  it('when two heads of one tree sign different maps, then gossip reports a split view', () => {
    const other = signTreeHead({ ...v2, mapRoot: 'ef'.repeat(32) }, logKey.secretKey);
    expect(
      checkGossipHead({ own: v2, theirs: other, proof: [], logPublicKey: logKey.publicKey }),
    ).toMatchObject({ status: 'split-view' });
    expect(
      checkGossipHead({ own: v2, theirs: v1, proof: [], logPublicKey: logKey.publicKey }),
    ).toEqual({ status: 'consistent' });
  });
});

describe('extendFrontier (how an auditor follows the log root)', () => {
  it('any number of leaves folded into a frontier gives the log’s root at every size', () => {
    fc.assert(
      fc.property(fc.integer({ min: 0, max: 300 }), (n) => {
        const leaves = Array.from({ length: n }, (_, i) => leafHash(utf8(`f${i}`)));
        const log = memoryLog(leaves);
        let frontier: Uint8Array[] = [];
        for (const [i, leaf] of leaves.entries()) {
          frontier = extendFrontier(frontier, i, leaf);
          expect(toHex(foldRange(frontier))).toBe(toHex(log.root(i + 1)));
        }
      }),
      { numRuns: 20 },
    );
  });
});
