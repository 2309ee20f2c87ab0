// Key transparency (issue 12): RFC 6962/9162 vectors, properties of random trees, signed heads
// and the client checks with their stable error codes.
import fc from 'fast-check';
import {
  checkGossipHead,
  checkHeadUpdate,
  checkOwnBindings,
  CryptoError,
  emailCommitment,
  encodeBinding,
  bindingLeafHash,
  generateLogKey,
  hexToBytes,
  keyIdentityOf,
  leafHash,
  parseBinding,
  rootFromInclusionProof,
  signTreeHead,
  verifyConsistency,
  verifyInclusion,
  verifyKeyInLog,
  verifyTreeHead,
  USER_KEY_BINDING_VERSION,
  type SignedTreeHead,
  type UserKeyBinding,
} from '../src';
import { canonicalJson, toHex } from '../src/encoding';
import { fixture } from './helpers';
import { memoryKtMap, memoryLog, type MemoryKtMap, type MemoryLog } from './transparency-helpers';

interface Vectors {
  leaves: string[];
  roots: string[];
  leafHashes: string[];
  inclusion: { index: number; size: number; proof: string[] }[];
  consistency: { size1: number; size2: number; proof: string[] }[];
}
const vectors = JSON.parse(fixture('transparency/rfc6962-vectors.json')) as Vectors;
const fromHex = (hex: string): Uint8Array => Uint8Array.from(Buffer.from(hex, 'hex'));
const hexes = (hs: Uint8Array[]): string[] => hs.map(toHex);
const leafInputs = vectors.leaves.map(fromHex);

function expectCode(fn: () => unknown, code: string): void {
  let caught: unknown;
  try {
    fn();
  } catch (error) {
    caught = error;
  }
  expect(caught).toBeInstanceOf(CryptoError);
  expect((caught as CryptoError).code).toBe(code);
}

function flipBit(hs: Uint8Array[], i: number, bit: number): Uint8Array[] {
  return hs.map((h, j) => {
    if (j !== i) return h;
    const copy = Uint8Array.from(h);
    copy[bit >> 3] = (copy[bit >> 3] ?? 0) ^ (1 << (bit & 7));
    return copy;
  });
}

describe('RFC 6962 / RFC 9162 vectors', () => {
  const log = memoryLog(leafInputs.map(leafHash));

  it('when the vector leaves are hashed, then each leaf hash and each root of sizes 0–8 matches', () => {
    expect(hexes(leafInputs.map(leafHash))).toEqual(vectors.leafHashes);
    for (let size = 0; size <= 8; size++) expect(toHex(log.root(size))).toBe(vectors.roots[size]);
  });

  it.each(vectors.inclusion)(
    'inclusion of leaf $index in a tree of $size: built as published, verifies',
    ({ index, size, proof }) => {
      expect(hexes(log.inclusion(index, size))).toEqual(proof);
      const root = fromHex(vectors.roots[size] ?? '');
      const leaf = fromHex(vectors.leafHashes[index] ?? '');
      expect(() => verifyInclusion(index, size, leaf, proof.map(fromHex), root)).not.toThrow();
    },
  );

  it.each(vectors.consistency)(
    'consistency $size1 → $size2: built as published, verifies',
    ({ size1, size2, proof }) => {
      expect(hexes(log.consistency(size1, size2))).toEqual(proof);
      const [r1, r2] = [fromHex(vectors.roots[size1] ?? ''), fromHex(vectors.roots[size2] ?? '')];
      expect(() => verifyConsistency(size1, size2, r1, r2, proof.map(fromHex))).not.toThrow();
    },
  );

  it('when an inclusion proof is for another leaf, has a wrong sibling, a wrong size, or is truncated or padded, then kt-bad-proof', () => {
    const some = fromHex('abacaba000000000000000000000000000000000000000000060061e00123456');
    for (const { index, size, proof: hex } of vectors.inclusion.filter((v) => v.proof.length > 0)) {
      const proof = hex.map(fromHex);
      const root = fromHex(vectors.roots[size] ?? '');
      const leaf = fromHex(vectors.leafHashes[index] ?? '');
      const bad: [number, number, Uint8Array, Uint8Array[]][] = [
        [index + 1, size, leaf, proof],
        [index ^ 2, size, leaf, proof],
        [index, size * 2, leaf, proof],
        [index, Math.max(1, Math.floor(size / 2)), leaf, proof],
        [index, size, leafHash(new Uint8Array([1])), proof],
        [index, size, leaf, [...proof, root]],
        [index, size, leaf, [root, ...proof]],
        [index, size, leaf, proof.slice(0, -1)],
        [index, size, leaf, [proof[0] as Uint8Array, some, ...proof.slice(1)]],
        ...proof.map((_, i): [number, number, Uint8Array, Uint8Array[]] => [
          index,
          size,
          leaf,
          flipBit(proof, i, 3),
        ]),
      ];
      for (const [i, s, l, p] of bad) {
        if (i >= s) continue;
        expectCode(() => verifyInclusion(i, s, l, p, root), 'kt-bad-proof');
      }
      expectCode(() => verifyInclusion(index, size, leaf, proof, some), 'kt-bad-proof');
    }
  });

  it('when a consistency proof is altered, the sizes or roots are wrong, then kt-inconsistent', () => {
    for (const { size1, size2, proof: hex } of vectors.consistency.filter(
      (v) => v.proof.length > 0,
    )) {
      const proof = hex.map(fromHex);
      const [r1, r2] = [fromHex(vectors.roots[size1] ?? ''), fromHex(vectors.roots[size2] ?? '')];
      const bad: [number, number, Uint8Array, Uint8Array, Uint8Array[]][] = [
        [size1 + 1, size2, r1, r2, proof],
        [size1, size2 * 2, r1, r2, proof],
        [size1, size2, r2, r1, proof],
        [size1, size2, r1, r2, []],
        [size1, size2, r1, r2, [...proof, r1]],
        [size1, size2, r1, r2, [r2, ...proof]],
        [size1, size2, r1, r2, proof.slice(0, -1)],
        ...proof.map((_, i): [number, number, Uint8Array, Uint8Array, Uint8Array[]] => [
          size1,
          size2,
          r1,
          r2,
          flipBit(proof, i, 4),
        ]),
      ];
      if (size1 > 1) bad.push([size1 - 1, size2, r1, r2, proof]);
      for (const [s1, s2, a, b, p] of bad) {
        if (s1 > s2) continue;
        expectCode(() => verifyConsistency(s1, s2, a, b, p), 'kt-inconsistent');
      }
    }
  });

  it('when a hash has the wrong length, then kt-malformed', () => {
    const root = fromHex(vectors.roots[1] ?? '');
    expectCode(() => verifyInclusion(0, 1, new Uint8Array(31), [], root), 'kt-malformed');
    expectCode(() => verifyConsistency(1, 2, root, root, [new Uint8Array(33)]), 'kt-malformed');
    expectCode(() => verifyConsistency(2, 1, root, root, []), 'kt-malformed');
  });
});

describe('properties of random trees', () => {
  const logs = new Map<number, MemoryLog>();
  const logOf = (size: number): MemoryLog => {
    let log = logs.get(size);
    if (!log) {
      log = memoryLog(
        Array.from({ length: size }, (_, i) => leafHash(new TextEncoder().encode(`leaf ${i}`))),
      );
      logs.set(size, log);
    }
    return log;
  };

  it('any inclusion proof verifies, and any single-bit change to it fails', () => {
    fc.assert(
      fc.property(
        fc.integer({ min: 1, max: 600 }),
        fc.nat(),
        fc.nat(),
        fc.nat(255),
        (size, pick, which, bit) => {
          const log = logOf(size);
          const index = pick % size;
          const leaf = leafHash(new TextEncoder().encode(`leaf ${index}`));
          const proof = log.inclusion(index, size);
          const root = log.root(size);
          verifyInclusion(index, size, leaf, proof, root);
          if (proof.length > 0) {
            const bent = flipBit(proof, which % proof.length, bit);
            expect(() => verifyInclusion(index, size, leaf, bent, root)).toThrow(CryptoError);
          }
          expect(toHex(rootFromInclusionProof(index, size, leaf, proof))).toBe(toHex(root));
        },
      ),
      { numRuns: 300 },
    );
  });

  it('consistency holds between any two sizes, and any single-bit change to the proof fails', () => {
    fc.assert(
      fc.property(
        fc.integer({ min: 1, max: 600 }),
        fc.nat(),
        fc.nat(),
        fc.nat(255),
        (size2, pick, which, bit) => {
          const log = logOf(size2);
          const size1 = 1 + (pick % size2);
          const proof = log.consistency(size1, size2);
          verifyConsistency(size1, size2, log.root(size1), log.root(size2), proof);
          if (proof.length > 0) {
            const bent = flipBit(proof, which % proof.length, bit);
            expect(() =>
              verifyConsistency(size1, size2, log.root(size1), log.root(size2), bent),
            ).toThrow(CryptoError);
          }
        },
      ),
      { numRuns: 300 },
    );
  });
});

describe('signed tree heads and the client checks', () => {
  const logKey = generateLogKey();
  const otherKey = generateLogKey();
  const sign = (log: MemoryLog, size: number, timestamp = 1_000 + size): SignedTreeHead =>
    signTreeHead(
      { v: 2, size, root: toHex(log.root(size)), mapRoot: map.roots[size] ?? '', timestamp },
      logKey.secretKey,
    );

  const doctor = { userId: 'u-doctor', email: 'Doctor@Example.org' };
  let real: UserKeyBinding;
  let rogue: UserKeyBinding;
  let log: MemoryLog;
  let map: MemoryKtMap;
  let leaves: string[];
  beforeAll(async () => {
    real = {
      v: 1,
      type: 'user-key',
      ...doctor,
      ...(await keyIdentityOf(fixture('good.pub.asc'))),
      at: Date.UTC(2026, 10, 1),
    };
    rogue = {
      ...real,
      ...(await keyIdentityOf(fixture('expired.pub.asc'))),
      at: Date.UTC(2026, 11, 2),
    };
    leaves = [
      encodeBinding({ ...real, userId: 'u-other', email: 'other@example.org' }),
      encodeBinding(real),
      encodeBinding(rogue),
    ];
    log = memoryLog(leaves.map(bindingLeafHash));
    map = await memoryKtMap(leaves);
  });
  const proven = (index: number, size = log.size) => ({
    leaf: { index, data: leaves[index] ?? '' },
    proof: hexes(log.inclusion(index, size)),
  });

  it('when a head is signed by the log key, then it verifies; another key or a changed field fails with kt-bad-head-signature', () => {
    const head = sign(log, 2);
    expect(() => verifyTreeHead(head, logKey.publicKey)).not.toThrow();
    expectCode(() => verifyTreeHead(head, otherKey.publicKey), 'kt-bad-head-signature');
    expectCode(
      () => verifyTreeHead({ ...head, size: 3 }, logKey.publicKey),
      'kt-bad-head-signature',
    );
    expectCode(
      () => verifyTreeHead({ ...head, timestamp: head.timestamp + 1 }, logKey.publicKey),
      'kt-bad-head-signature',
    );
    expectCode(
      () => verifyTreeHead({ ...head, signature: 'AAAA' }, logKey.publicKey),
      'kt-bad-head-signature',
    );
    expectCode(() => verifyTreeHead({ ...head, root: 'zz' }, logKey.publicKey), 'kt-malformed');
  });

  it('when the new head extends the stored one, then it is accepted; older, rewritten or unsigned heads are refused', () => {
    const h1 = sign(log, 1);
    const h3 = sign(log, 3);
    const ok = checkHeadUpdate({
      stored: h1,
      next: h3,
      consistency: hexes(log.consistency(1, 3)),
      logPublicKey: logKey.publicKey,
    });
    expect(ok).toEqual(h3);
    expect(
      checkHeadUpdate({ stored: null, next: h1, consistency: [], logPublicKey: logKey.publicKey }),
    ).toEqual(h1);
    expectCode(
      () =>
        checkHeadUpdate({ stored: h3, next: h1, consistency: [], logPublicKey: logKey.publicKey }),
      'kt-head-older',
    );
    const stale = sign(log, 3, h1.timestamp - 1);
    expectCode(
      () =>
        checkHeadUpdate({
          stored: h1,
          next: stale,
          consistency: hexes(log.consistency(1, 3)),
          logPublicKey: logKey.publicKey,
        }),
      'kt-head-older',
    );
    // The same tree signed again with another subject map: a split view, whatever its time.
    const otherMap = signTreeHead(
      { ...h3, mapRoot: map.roots[2] ?? '', timestamp: h3.timestamp + 1 },
      logKey.secretKey,
    );
    expectCode(
      () =>
        checkHeadUpdate({
          stored: h3,
          next: otherMap,
          consistency: [],
          logPublicKey: logKey.publicKey,
        }),
      'kt-inconsistent',
    );
    const forked = memoryLog([
      bindingLeafHash('{"forged":1}'),
      ...leaves.slice(1).map(bindingLeafHash),
    ]);
    const fh3 = sign(forked, 3);
    expectCode(
      () =>
        checkHeadUpdate({
          stored: h1,
          next: fh3,
          consistency: hexes(forked.consistency(1, 3)),
          logPublicKey: logKey.publicKey,
        }),
      'kt-inconsistent',
    );
    const wrongKey = signTreeHead(h3, otherKey.secretKey);
    expectCode(
      () =>
        checkHeadUpdate({
          stored: h1,
          next: wrongKey,
          consistency: [],
          logPublicKey: logKey.publicKey,
        }),
      'kt-bad-head-signature',
    );
  });

  it('when the directory key is the logged one, then verifyKeyInLog returns the binding', async () => {
    const binding = await verifyKeyInLog({
      head: sign(log, 2),
      armoredKey: fixture('good.pub.asc'),
      expect: doctor,
      proven: proven(1, 2),
      map: await map.proof(doctor.userId, 2),
    });
    expect(binding.fingerprint).toBe(real.fingerprint);
    // Under the larger tree the doctor's key was replaced: the earlier leaf is not served as current.
    await expect(
      verifyKeyInLog({
        head: sign(log, 3),
        armoredKey: fixture('good.pub.asc'),
        expect: doctor,
        proven: proven(1),
        map: await map.proof(doctor.userId, 3),
      }),
    ).rejects.toMatchObject({ code: 'kt-binding-mismatch' });
  });

  it('when the directory key was never logged, or a proof for another leaf is given, then sharing is refused with a stable code', async () => {
    const head = sign(log, 3);
    const mapProof = await map.proof(doctor.userId, 3);
    const unlogged = fixture('revoked.pub.asc');
    await expect(
      verifyKeyInLog({
        head,
        armoredKey: unlogged,
        expect: doctor,
        proven: proven(1),
        map: mapProof,
      }),
    ).rejects.toMatchObject({ code: 'kt-binding-mismatch' });
    await expect(
      verifyKeyInLog({
        head,
        armoredKey: fixture('good.pub.asc'),
        expect: doctor,
        proven: { ...proven(1), proof: proven(0).proof },
        map: mapProof,
      }),
    ).rejects.toMatchObject({ code: 'kt-bad-proof' });
    await expect(
      verifyKeyInLog({
        head,
        armoredKey: fixture('good.pub.asc'),
        expect: doctor,
        proven: { leaf: { index: 0, data: leaves[1] ?? '' }, proof: proven(0).proof },
        map: mapProof,
      }),
    ).rejects.toMatchObject({ code: 'kt-bad-proof' });
    await expect(
      verifyKeyInLog({
        head,
        armoredKey: fixture('good.pub.asc'),
        expect: { ...doctor, userId: 'u-other' },
        proven: proven(1),
        map: mapProof,
      }),
    ).rejects.toMatchObject({ code: 'kt-binding-mismatch' });
    await expect(
      verifyKeyInLog({
        head,
        armoredKey: fixture('good.pub.asc'),
        expect: { ...doctor, email: 'else@example.org' },
        proven: proven(1),
        map: mapProof,
      }),
    ).rejects.toMatchObject({ code: 'kt-binding-mismatch' });
    // A person reached by id (no email known): the user id and the key must match.
    await expect(
      verifyKeyInLog({
        head,
        armoredKey: fixture('expired.pub.asc'),
        expect: { userId: doctor.userId },
        proven: proven(2),
        map: mapProof,
      }),
    ).resolves.toMatchObject({ userId: doctor.userId });
    // A leaf proven only in a larger tree than the signed head.
    const head2 = sign(log, 2);
    await expect(
      verifyKeyInLog({
        head: head2,
        armoredKey: fixture('expired.pub.asc'),
        expect: doctor,
        proven: proven(2),
        map: mapProof,
      }),
    ).rejects.toMatchObject({
      code: 'kt-bad-proof',
    });
  });

  it('when the log holds a key for me that is not mine, then self-monitoring reports it with its date', async () => {
    const head = sign(log, 3);
    const mine = [{ fingerprint: real.fingerprint, keySha256: real.keySha256 }];
    const own = (h: SignedTreeHead, history: ReturnType<typeof proven>[], ownKeys = mine) =>
      map
        .proof(doctor.userId, h.size)
        .then((mapProof) =>
          checkOwnBindings({ head: h, userId: doctor.userId, ownKeys, history, map: mapProof }),
        );
    await expect(own(sign(log, 2), [proven(1, 2)])).resolves.toEqual({ status: 'ok' });
    await expect(own(head, [proven(1), proven(2)])).resolves.toEqual({
      status: 'foreign-key',
      bindings: [{ index: 2, fingerprint: rogue.fingerprint, at: rogue.at }],
      withheld: 0,
    });
    await expect(own(sign(log, 1), [])).resolves.toEqual({ status: 'own-key-missing' });
    // My fingerprint with another whole key (a subkey dropped or swapped) is not my binding.
    await expect(
      own(
        sign(log, 2),
        [proven(1, 2)],
        [{ fingerprint: real.fingerprint, keySha256: rogue.keySha256 }],
      ),
    ).resolves.toMatchObject({ status: 'foreign-key', bindings: [{ index: 1 }] });
    await expect(own(head, [proven(0)])).rejects.toMatchObject({ code: 'kt-binding-mismatch' });
    await expect(own(head, [{ ...proven(2), proof: proven(1).proof }])).rejects.toMatchObject({
      code: 'kt-bad-proof',
    });
  });

  it('when another person saw a forked tree, then gossip reports a split view; a consistent head passes', () => {
    const own = sign(log, 2);
    const theirs = sign(log, 3);
    expect(
      checkGossipHead({
        own,
        theirs,
        proof: hexes(log.consistency(2, 3)),
        logPublicKey: logKey.publicKey,
      }),
    ).toEqual({ status: 'consistent' });
    expect(
      checkGossipHead({
        own: theirs,
        theirs: own,
        proof: hexes(log.consistency(2, 3)),
        logPublicKey: logKey.publicKey,
      }),
    ).toEqual({
      status: 'consistent',
    });
    const forked = memoryLog(
      [leaves[0], leaves[1], encodeBinding({ ...rogue, at: 5 })].map((d) =>
        bindingLeafHash(d ?? ''),
      ),
    );
    const forkHead = sign(forked, 3);
    expect(
      checkGossipHead({ own: theirs, theirs: forkHead, proof: [], logPublicKey: logKey.publicKey }),
    ).toMatchObject({ status: 'split-view' });
    expect(
      checkGossipHead({
        own,
        theirs: forkHead,
        proof: hexes(log.consistency(2, 3)),
        logPublicKey: logKey.publicKey,
      }),
    ).toMatchObject({
      status: 'split-view',
    });
    expectCode(
      () =>
        checkGossipHead({
          own,
          theirs: signTreeHead(forkHead, otherKey.secretKey),
          proof: [],
          logPublicKey: logKey.publicKey,
        }),
      'kt-bad-head-signature',
    );
  });

  it('when a key leaf is version 2, then it holds no email, and a lookup by email verifies only with the nonce that lookup answered', async () => {
    const nonce = 'bm9uY2Utb2YtdGhlLWRvY3Rvcg';
    const v2: UserKeyBinding = {
      v: USER_KEY_BINDING_VERSION,
      type: 'user-key',
      userId: doctor.userId,
      emailCommitment: emailCommitment(doctor.email, nonce),
      ...(await keyIdentityOf(fixture('good.pub.asc'))),
      at: Date.UTC(2026, 11, 7),
    };
    const data = [encodeBinding(v2)];
    expect(data[0]).not.toMatch(/doctor@example\.org/i);
    expect(parseBinding(data[0] ?? '')).toEqual(v2);
    const v2Log = memoryLog(data.map(bindingLeafHash));
    const v2Map = await memoryKtMap(data);
    const check = async (expected: { userId: string; email?: string; emailNonce?: string }) =>
      verifyKeyInLog({
        head: signTreeHead(
          {
            v: 2,
            size: 1,
            root: toHex(v2Log.root(1)),
            mapRoot: v2Map.roots[1] ?? '',
            timestamp: 1,
          },
          logKey.secretKey,
        ),
        armoredKey: fixture('good.pub.asc'),
        expect: expected,
        proven: { leaf: { index: 0, data: data[0] ?? '' }, proof: hexes(v2Log.inclusion(0, 1)) },
        map: await v2Map.proof(doctor.userId, 1),
      });
    // The email as typed (case and spaces as at login) with the nonce; or reached by id alone.
    await expect(
      check({ userId: doctor.userId, email: ' doctor@EXAMPLE.org ', emailNonce: nonce }),
    ).resolves.toEqual(v2);
    await expect(check({ userId: doctor.userId })).resolves.toEqual(v2);
    // Another email, another nonce, or none: the server answered someone else for this address.
    for (const expected of [
      { userId: doctor.userId, email: 'else@example.org', emailNonce: nonce },
      { userId: doctor.userId, email: doctor.email, emailNonce: 'b3RoZXItbm9uY2U' },
      { userId: doctor.userId, email: doctor.email },
    ])
      await expect(check(expected)).rejects.toMatchObject({ code: 'kt-binding-mismatch' });
    // A version 2 leaf that holds the email as well, or a commitment in a version 1 leaf, is no binding.
    for (const leaf of [
      { ...v2, email: doctor.email },
      { ...v2, v: 1 },
    ])
      expect(() => parseBinding(canonicalJson(leaf))).toThrow(
        expect.objectContaining({ code: 'kt-malformed' }),
      );
  });

  it('when a leaf is not canonical or not a binding, then kt-malformed; another version is unsupported-format', () => {
    const head = sign(log, 3);
    const bad = (data: string) =>
      checkOwnBindings({
        head,
        userId: doctor.userId,
        ownKeys: [],
        history: [{ leaf: { index: 1, data }, proof: [] }],
        map: { entry: null, siblings: [] },
      });
    expectCode(() => bad(' ' + (leaves[1] ?? '')), 'kt-malformed');
    expectCode(() => bad('{"v":1}'), 'kt-malformed');
    expectCode(() => bad('nope'), 'kt-malformed');
    expectCode(() => bad('{"v":2}'), 'unsupported-format');
    expectCode(() => bad('{"v":3,"type":"user-key"}'), 'unsupported-format');
    expectCode(() => bad('{"v":2,"type":"team-member"}'), 'unsupported-format');
    expect(hexToBytes(head.root)).toHaveLength(32);
  });
});
