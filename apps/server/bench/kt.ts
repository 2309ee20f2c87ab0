/**
 * Key-transparency log benchmark (issue 12), on the embedded database unless MONGODB_URI is set:
 *   pnpm --filter @medseal/server bench   (runs after bench/run.ts)
 * - appends per second with 64 appends in flight (one server process: its queue orders them);
 * - proof generation (inclusion of a binding, consistency between two heads) at 1,000,000
 *   leaves, p50/p99: the tiles of a 1M-leaf tree are written directly, as the log stores them;
 * - stored bytes per leaf (tiles and leaf documents, BSON);
 * - the client's check of a subject map lookup proof at 20,000 subjects (in Node), p50/p99.
 * Reference in the same run: one `_id` read of a tile (the unit a proof is made of).
 * Prints each figure as it is measured and writes bench/kt-results.json.
 */
import { writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { mongo } from 'mongoose';
import {
  bindingLeafHash,
  foldRange,
  MemoryMap,
  nodeHash,
  rootPlan,
  signTreeHead,
  verifyMapLookup,
} from '@medseal/crypto';
import { TILE_BYTES, TransparencyLog, tileSlot } from '../src/components/transparency/log';
import { ktModels, type KtModels } from '../src/components/transparency/model';
import { createLogger } from '../src/lib/logger';
import { generateSecrets } from '../src/lib/secrets';
import { openBenchDatabase } from './database';

const SIZE = 1_000_000;
const SAMPLES = 200;
const SUBJECTS = 20_000;

function percentile(xs: number[], p: number): number {
  const s = [...xs].sort((a, b) => a - b);
  return s[Math.min(s.length - 1, Math.floor((p / 100) * s.length))] ?? 0;
}

async function timed(fn: () => Promise<unknown>): Promise<number> {
  const start = performance.now();
  await fn();
  return performance.now() - start;
}

const leafData = (i: number) => JSON.stringify({ bench: i, pad: 'x'.repeat(200) });

/** Writes the tiles of a SIZE-leaf tree the way the log stores them, and heads at two sizes. */
async function buildTree(models: KtModels, logKey: string, oldSize: number): Promise<number> {
  let level = new Uint8Array(SIZE * 32);
  for (let i = 0; i < SIZE; i++) level.set(bindingLeafHash(leafData(i)), i * 32);
  const levels: Uint8Array[] = [];
  const tiles = new Map<string, Buffer>();
  for (let l = 0; level.length > 0; l++) {
    levels.push(level);
    const count = level.length / 32;
    for (let i = 0; i < count; i++) {
      const { id, at } = tileSlot({ level: l, index: i });
      let tile = tiles.get(id);
      if (!tile) tiles.set(id, (tile = Buffer.alloc(TILE_BYTES)));
      tile.set(level.subarray(i * 32, i * 32 + 32), at);
    }
    const next = new Uint8Array(Math.floor(count / 2) * 32);
    for (let i = 0; i + 1 < count; i += 2)
      next.set(
        nodeHash(level.subarray(i * 32, i * 32 + 32), level.subarray(i * 32 + 32, i * 32 + 64)),
        (i / 2) * 32,
      );
    level = next;
  }
  const bytes = [...tiles].reduce(
    (n, [id, hashes]) => n + mongo.BSON.calculateObjectSize({ _id: id, hashes }),
    0,
  );
  const docs = [...tiles].map(([id, hashes]) => ({ _id: id, hashes }));
  for (let i = 0; i < docs.length; i += 200) await models.tiles.insertMany(docs.slice(i, i + 200));
  for (const size of [oldSize, SIZE]) {
    const hashes = rootPlan(size).map((n) =>
      (levels[n.level] as Uint8Array).subarray(n.index * 32, n.index * 32 + 32),
    );
    const root = Buffer.from(foldRange(hashes)).toString('hex');
    const head = signTreeHead({ v: 1, size, root, timestamp: Date.now() }, logKey);
    await models.heads.create({
      _id: size,
      root,
      timestamp: head.timestamp,
      signature: head.signature,
    });
  }
  return bytes;
}

async function main() {
  const db = await openBenchDatabase('ktbench');
  const { connection } = db;
  const models = ktModels(connection);
  const { ktLogKey } = generateSecrets();
  const out: Record<string, { value: number; unit: string }> = {};
  const put = (metric: string, value: number, unit: string, goal = '') => {
    out[metric] = { value: Math.round(value * 100) / 100, unit };
    console.log(
      `${metric.padEnd(40)} ${String(out[metric]?.value).padStart(10)} ${unit.padEnd(9)} ${goal}`,
    );
  };

  // Appends: 64 in flight at a time, 256 in all, into an empty log.
  const log = new TransparencyLog(models, { logKey: ktLogKey, logger: createLogger('silent') });
  const APPENDS = 256;
  const appendMs = await timed(async () => {
    let next = 0;
    await Promise.all(
      Array.from({ length: 64 }, async () => {
        while (next < APPENDS) {
          const i = next++;
          await log.append(leafData(i), `subject-${i % 64}`);
        }
      }),
    );
  });
  put('kt_appends_per_sec_64_in_flight', APPENDS / (appendMs / 1000), 'append/s');
  await Promise.all(
    Object.values(models).map((m: { deleteMany(f: object): Promise<unknown> }) => m.deleteMany({})),
  );

  // The subject map: a lookup proof as a client checks it, at SUBJECTS subjects (one leaf each).
  const map = new MemoryMap();
  for (let i = 0; i < SUBJECTS; i++)
    await map.appendLeaf(`user-${i}`, i, bindingLeafHash(leafData(i)));
  const mapVerify: number[] = [];
  for (let k = 0; k <= SAMPLES; k++) {
    const subject = `user-${Math.floor(Math.random() * SUBJECTS)}`;
    const proof = await map.proof(subject);
    mapVerify.push(await timed(async () => verifyMapLookup(map.root, subject, proof)));
    if (k === 0) mapVerify.length = 0; // warm-up
  }
  put('kt_map_lookup_verify_p50_20k_subjects', percentile(mapVerify, 50), 'ms');
  put('kt_map_lookup_verify_p99_20k_subjects', percentile(mapVerify, 99), 'ms');

  const oldSize = 654_321;
  const tileBytes = await buildTree(models, ktLogKey, oldSize);
  const indexes = Array.from({ length: SAMPLES }, () => Math.floor(Math.random() * SIZE));
  await models.leaves.insertMany(
    [...new Set(indexes)].map((i) => ({ _id: i, data: leafData(i), subject: 'bench' })),
  );

  const inclusion: number[] = [];
  const consistency: number[] = [];
  const reference: number[] = [];
  for (const [k, i] of indexes.entries()) {
    inclusion.push(await timed(() => log.proven(i, SIZE)));
    consistency.push(await timed(() => log.consistency(oldSize, SIZE)));
    reference.push(
      await timed(() => models.tiles.findById(tileSlot({ level: 0, index: i }).id).lean()),
    );
    if (k === 0) inclusion.length = consistency.length = reference.length = 0; // warm-up
  }
  // Each proof also as a ratio to one tile read at the same percentile, measured in the same
  // loop: on a loaded machine the ratio says more than the milliseconds.
  const ratio = (xs: number[], p: number) =>
    `(${(percentile(xs, p) / percentile(reference, p)).toFixed(1)}× one tile read)`;
  put('kt_inclusion_proof_p50_1M', percentile(inclusion, 50), 'ms', ratio(inclusion, 50));
  put('kt_inclusion_proof_p99_1M', percentile(inclusion, 99), 'ms', `≤ 20 ${ratio(inclusion, 99)}`);
  put('kt_consistency_proof_p50_1M', percentile(consistency, 50), 'ms', ratio(consistency, 50));
  put(
    'kt_consistency_proof_p99_1M',
    percentile(consistency, 99),
    'ms',
    `≤ 20 ${ratio(consistency, 99)}`,
  );
  put('kt_reference_one_tile_read_p50', percentile(reference, 50), 'ms');
  put('kt_reference_one_tile_read_p99', percentile(reference, 99), 'ms');

  const leafBytes = mongo.BSON.calculateObjectSize({
    _id: 1,
    data: leafData(1),
    subject: 'x'.repeat(22),
  });
  put('kt_tile_bytes_per_leaf', tileBytes / SIZE, 'B');
  put('kt_leaf_doc_bytes_200B_binding', leafBytes, 'B');

  await writeFile(
    join(process.cwd(), 'bench', 'kt-results.json'),
    `${JSON.stringify(out, null, 2)}\n`,
  );
  await connection.dropDatabase().catch(() => undefined);
  await db.close();
}

main().catch((error: unknown) => {
  console.error(error);
  process.exit(1);
});
