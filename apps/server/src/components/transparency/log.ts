import { setTimeout as sleep } from 'node:timers/promises';
import type { Logger } from 'pino';
import { toBuffer } from '../../lib/bytes';
import { isDuplicateKey } from '../../lib/db';
import { AppError } from '../../lib/errors';
import {
  bindingLeafHash,
  consistencyPlan,
  foldRange,
  inclusionPlan,
  nodeHash,
  rootPlan,
  signTreeHead,
  type NodeId,
  type ProofStep,
  type SignedTreeHead,
} from '../../lib/pgp';
import type { KtHeadDoc, KtModels } from './model';

const TILE_WIDTH = 256;
const HASH = 32;

export interface TransparencyLogOptions {
  /** Ed25519 seed of the log key (config MEDSEAL_KT_LOG_KEY). */
  logKey: string;
  /**
   * How long an appender waits for the leaf before its own to be integrated before it decides
   * that appender died and integrates it itself.
   */
  stallMs?: number;
  logger: Logger;
}

const tileId = (level: number, tile: number) => `${level}:${tile}`;
const badSize = (message: string) => new AppError({ status: 400, code: 'kt-bad-size', message });

/** Reads stored node hashes a tile at a time, each tile once. */
class TileReader {
  private readonly tiles = new Map<string, Promise<Buffer | null>>();

  constructor(private readonly models: KtModels) {}

  load(level: number, tile: number): Promise<Buffer | null> {
    const id = tileId(level, tile);
    let p = this.tiles.get(id);
    if (!p) {
      p = this.models.tiles
        .findById(id)
        .lean()
        .then((doc) => (doc ? toBuffer(doc.hashes) : null));
      this.tiles.set(id, p);
    }
    return p;
  }

  /** Fetches every tile the nodes live in, in parallel, then returns a synchronous lookup. */
  async lookupFor(nodes: readonly NodeId[]): Promise<(node: NodeId) => Uint8Array> {
    const loaded = new Map<string, Buffer | null>();
    await Promise.all(
      nodes.map(async (n) => {
        const t = Math.floor(n.index / TILE_WIDTH);
        loaded.set(tileId(n.level, t), await this.load(n.level, t));
      }),
    );
    return (n) => {
      const tile = loaded.get(tileId(n.level, Math.floor(n.index / TILE_WIDTH)));
      const at = (n.index % TILE_WIDTH) * HASH;
      if (!tile || tile.length < at + HASH)
        throw new Error(`kt: node ${n.level}:${n.index} is not stored`);
      return tile.subarray(at, at + HASH);
    };
  }
}

/**
 * The append-only log. Appends are ordered without transactions (FerretDB has none, DESIGN
 * §9): inserting leaf `n` (a new `_id`) claims index n; its appender then waits for head `n`
 * (all earlier leaves integrated), writes leaf n's tile entries and inserts head `n + 1`. So
 * only one appender writes tiles at a time, and a head exists only once its tiles do.
 */
export class TransparencyLog {
  private readonly stallMs: number;
  /** This process's appends, in order. */
  private queue: Promise<unknown> = Promise.resolve();

  constructor(
    private readonly models: KtModels,
    private readonly options: TransparencyLogOptions,
  ) {
    this.stallMs = options.stallMs ?? 10_000;
  }

  /** The newest head, or null for an empty log. */
  async latestHead(): Promise<SignedTreeHead | null> {
    const hint = await this.models.meta.findById('latest').lean();
    let size = hint?.size ?? 0;
    let head = size > 0 ? await this.models.heads.findById(size).lean() : null;
    for (;;) {
      const next = await this.models.heads.findById(size + 1).lean();
      if (!next) break;
      head = next;
      size++;
    }
    return head ? toSignedHead(head) : null;
  }

  /**
   * Appends one binding and returns its leaf index once a signed head covers it. Appends of one
   * process run one after the other (a queue of this instance), so they do not poll the
   * database against each other; between processes the protocol above orders them.
   * @param subject whose binding it is (its history lists the leaf).
   */
  append(data: string, subject: string): Promise<number> {
    const run = this.queue.then(async () => {
      const index = await this.claim(data, subject);
      await this.waitForHead(index);
      await this.integrate(index);
      return index;
    });
    this.queue = run.catch(() => undefined);
    return run;
  }

  /** Inserts the leaf at the first free index. */
  private async claim(data: string, subject: string): Promise<number> {
    let index = (await this.latestHead())?.size ?? 0;
    for (;;) {
      try {
        await this.models.leaves.create({ _id: index, data, subject });
        return index;
      } catch (error) {
        if (!isDuplicateKey(error)) throw error;
        index++;
      }
    }
  }

  /**
   * Waits for head `size` (leaves 0..size-1 integrated). Appenders ahead of it may take long in
   * all, so only a log that has not grown for `stallMs` counts as stalled: then the leaf before
   * ours is integrated here (its appender died between claiming and integrating).
   */
  private async waitForHead(size: number): Promise<void> {
    if (size === 0) return;
    let known = (await this.latestHead())?.size ?? 0;
    let deadline = Date.now() + this.stallMs;
    let pause = 2;
    while (known < size) {
      if (await this.models.heads.exists({ _id: known + 1 })) {
        known++;
        deadline = Date.now() + this.stallMs;
        pause = 2;
        continue;
      }
      if (Date.now() > deadline) {
        this.options.logger.warn(
          { leaf: known },
          'kt: the appender of a leaf stalled; integrating it here',
        );
        await this.integrate(known);
        continue;
      }
      await sleep(pause);
      pause = Math.min(pause * 2, 50);
    }
  }

  /** Writes leaf `index`'s node hashes, its subject entry, then head `index + 1`. Idempotent. */
  private async integrate(index: number): Promise<void> {
    // Integrated meanwhile by an appender that thought this one had stalled.
    if (await this.models.heads.exists({ _id: index + 1 })) return;
    const leaf = await this.models.leaves.findById(index).lean();
    if (!leaf) throw new Error(`kt: leaf ${index} is missing`);
    const reader = new TileReader(this.models);
    /** Tiles this leaf changes, full width while being written; with the width stored before. */
    const changed = new Map<string, { tile: Buffer; storedWidth: number }>();
    const tileOf = (level: number, i: number) => tileId(level, Math.floor(i / TILE_WIDTH));
    const put = async (level: number, i: number, h: Uint8Array) => {
      const id = tileOf(level, i);
      let entry = changed.get(id);
      if (!entry) {
        const stored = await reader.load(level, Math.floor(i / TILE_WIDTH));
        const tile = Buffer.alloc(TILE_WIDTH * HASH);
        if (stored) stored.copy(tile);
        entry = { tile, storedWidth: (stored?.length ?? 0) / HASH };
        changed.set(id, entry);
      }
      entry.tile.set(h, (i % TILE_WIDTH) * HASH);
    };
    const get = async (level: number, i: number) => {
      const at = (i % TILE_WIDTH) * HASH;
      const tile =
        changed.get(tileOf(level, i))?.tile ??
        (await reader.load(level, Math.floor(i / TILE_WIDTH)));
      if (!tile || tile.length < at + HASH) throw new Error(`kt: node ${level}:${i} is not stored`);
      return tile.subarray(at, at + HASH);
    };

    let h = bindingLeafHash(leaf.data);
    let i = index;
    await put(0, i, h);
    for (let level = 1; i % 2 === 1; level++) {
      h = nodeHash(await get(level - 1, i - 1), h);
      i = Math.floor(i / 2);
      await put(level, i, h);
    }
    const plan = rootPlan(index + 1);
    const root = foldRange(await Promise.all(plan.map((n) => get(n.level, n.index))));

    // Tiles are stored trimmed to the entries they hold (never shorter than they were).
    await Promise.all(
      [...changed].map(([id, { tile, storedWidth }]) => {
        const [level, t] = id.split(':').map(Number) as [number, number];
        const width = Math.max(
          storedWidth,
          Math.min(TILE_WIDTH, nodesAtLevel(index + 1, level) - t * TILE_WIDTH),
        );
        return this.models.tiles.replaceOne(
          { _id: id },
          { _id: id, hashes: tile.subarray(0, width * HASH) },
          { upsert: true },
        );
      }),
    );
    const subject = await this.models.subjects.findById(leaf.subject).lean();
    if (!subject?.indexes.includes(index)) {
      const indexes = [...(subject?.indexes ?? []), index].sort((a, b) => a - b);
      await this.models.subjects.replaceOne(
        { _id: leaf.subject },
        { _id: leaf.subject, indexes },
        { upsert: true },
      );
    }
    const previous = index > 0 ? await this.models.heads.findById(index).lean() : null;
    // Never older than the previous head, so clients can refuse a head older than one they keep.
    const timestamp = Math.max(Date.now(), previous?.timestamp ?? 0);
    const head = signTreeHead(
      { v: 1, size: index + 1, root: Buffer.from(root).toString('hex'), timestamp },
      this.options.logKey,
    );
    try {
      await this.models.heads.create({
        _id: head.size,
        root: head.root,
        timestamp: head.timestamp,
        signature: head.signature,
      });
    } catch (error) {
      if (!isDuplicateKey(error)) throw error; // another appender integrated it after a stall
    }
    await this.models.meta.replaceOne(
      { _id: 'latest' },
      { _id: 'latest', size: head.size },
      { upsert: true },
    );
  }

  private async checkSize(size: number): Promise<void> {
    if (size === 0 || !(await this.models.heads.exists({ _id: size })))
      throw badSize(`the log has no signed tree of ${size} leaves`);
  }

  private async prove(plan: readonly ProofStep[]): Promise<string[]> {
    const lookup = await new TileReader(this.models).lookupFor(plan.flat());
    return plan.map((step) => Buffer.from(foldRange(step.map(lookup))).toString('hex'));
  }

  /** @throws AppError 400 `kt-bad-size` unless both sizes have signed heads and from ≤ to. */
  async consistency(from: number, to: number): Promise<string[]> {
    if (from > to) throw badSize('the first size is larger than the second');
    await this.checkSize(to);
    if (from > 0) await this.checkSize(from);
    return this.prove(consistencyPlan(from, to));
  }

  /** Leaf `index` with its inclusion proof in the tree of `size` leaves. */
  async proven(
    index: number,
    size: number,
  ): Promise<{ leaf: { index: number; data: string }; proof: string[] }> {
    const leaf = await this.models.leaves.findById(index).lean();
    if (!leaf) throw new Error(`kt: leaf ${index} is missing`);
    return {
      leaf: { index, data: leaf.data },
      proof: await this.prove(inclusionPlan(index, size)),
    };
  }

  /** A subject's leaf indexes inside the tree of `size` leaves. @throws AppError 400 `kt-bad-size`. */
  async subjectIndexes(subject: string, size: number): Promise<number[]> {
    await this.checkSize(size);
    const doc = await this.models.subjects.findById(subject).lean();
    return (doc?.indexes ?? []).filter((i) => i < size);
  }
}

/** How many complete nodes of `level` a tree of `size` leaves has. */
function nodesAtLevel(size: number, level: number): number {
  return Math.floor(size / 2 ** level);
}

function toSignedHead(doc: KtHeadDoc): SignedTreeHead {
  return {
    v: 1,
    size: doc._id,
    root: doc.root,
    timestamp: doc.timestamp,
    signature: doc.signature,
  };
}
