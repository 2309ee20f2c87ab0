import { setTimeout as sleep } from 'node:timers/promises';
import { LRUCache } from 'lru-cache';
import type { Logger } from 'pino';
import { toBuffer } from '../../lib/bytes';
import { isDuplicateKey } from '../../lib/db';
import { AppError } from '../../lib/errors';
import {
  bindingLeafHash,
  consistencyPlan,
  EMPTY_MAP_ROOT,
  foldRange,
  inclusionPlan,
  mapInsert,
  mapKey,
  mapLookup,
  mapValueAfter,
  nodeHash,
  rootPlan,
  signTreeHead,
  type MapNode,
  type MapProof,
  type NodeId,
  type ProofStep,
  type SignedTreeHead,
} from '../../lib/pgp';
import type { KtHeadDoc, KtMapNodeDoc, KtModels } from './model';

/** A tile holds 8 levels of a subtree: 256 nodes at its bottom level, 128 above, ..., 2 at the top. */
const TILE_HEIGHT = 8;
const TILE_NODES = 2 * 2 ** TILE_HEIGHT - 2;
const HASH = 32;
export const TILE_BYTES = TILE_NODES * HASH;

/**
 * Where a node is stored: tile `row:t` (row = level / 8) at byte `at`. A proof at 1M leaves
 * (20 levels) reads 3 tiles, not one per level.
 */
export function tileSlot(node: NodeId): { id: string; at: number } {
  const row = Math.floor(node.level / TILE_HEIGHT);
  const h = node.level % TILE_HEIGHT;
  const perTile = 2 ** (TILE_HEIGHT - h);
  const offset = 2 * 2 ** TILE_HEIGHT - 2 * perTile; // nodes of the lower levels of the tile
  return {
    id: `${row}:${Math.floor(node.index / perTile)}`,
    at: (offset + (node.index % perTile)) * HASH,
  };
}

export interface TransparencyLogOptions {
  /** Ed25519 seed of the log key (config MEDSEAL_KT_LOG_KEY). */
  logKey: string;
  /**
   * How long an appender waits for the log to grow before it decides the appender of the leaf
   * before its own died and integrates that leaf itself.
   */
  stallMs?: number;
  logger: Logger;
}

/** Full tiles kept in memory per process (16 KiB each): 16 MiB. */
const CACHED_TILES = 1024;
/** Leaves kept in memory per process (a binding is ~300 bytes). */
const CACHED_LEAVES = 10_000;

/**
 * Whether a tile is full: its top-right node is stored only once all 256 leaves under the tile
 * are, and a full tile never changes again (the log is append-only), so it may be cached.
 */
const isFull = (tile: Buffer) => tile.subarray(TILE_BYTES - HASH).some((b) => b !== 0);

const badSize = (message: string) => new AppError({ status: 400, code: 'kt-bad-size', message });

/** Map nodes kept in memory per process (a node is ~150 bytes; they never change). */
const CACHED_MAP_NODES = 100_000;

function toMapNode(doc: KtMapNodeDoc): MapNode {
  const { key, count, lastIndex, chain, left, right } = doc;
  if (key !== undefined && count !== undefined && lastIndex !== undefined && chain !== undefined)
    return { entry: { key, value: { count, lastIndex, chain } } };
  if (left !== undefined && right !== undefined) return { left, right };
  throw new Error(`kt: map node ${doc._id} is neither an entry nor a pair`);
}

function toMapNodeDoc(hash: string, node: MapNode): KtMapNodeDoc {
  return 'entry' in node
    ? { _id: hash, key: node.entry.key, ...node.entry.value }
    : { _id: hash, ...node };
}

/**
 * The subject map (issue 12), stored node by node under its hash: a lookup reads one node per
 * level by `_id` (DESIGN §9), and since a node never changes, any cached node is current.
 */
class MapStore {
  private readonly cache = new LRUCache<string, MapNode>({ max: CACHED_MAP_NODES });

  constructor(private readonly models: KtModels) {}

  readonly get = async (hash: string): Promise<MapNode> => {
    const cached = this.cache.get(hash);
    if (cached) return cached;
    const doc = await this.models.mapNodes.findById(hash).lean();
    if (!doc) throw new Error(`kt: map node ${hash} is missing`);
    const node = toMapNode(doc);
    this.cache.set(hash, node);
    return node;
  };

  lookup(root: string, subject: string): Promise<MapProof> {
    return mapLookup(root, mapKey(subject), this.get);
  }

  /** Counts leaf `index` for `subject` in the map of `root`: stores the new path, returns the new root. */
  async append(
    root: string,
    subject: string,
    index: number,
    leafHash: Uint8Array,
  ): Promise<string> {
    const key = mapKey(subject);
    const { entry } = await this.lookup(root, subject);
    const value = mapValueAfter(entry?.key === key ? entry.value : null, index, leafHash);
    const next = await mapInsert(root, { key, value }, this.get);
    // Upserts of content-addressed nodes: storing one twice (a retried append) changes nothing.
    await this.models.mapNodes.bulkWrite(
      next.nodes.map(({ hash, node }) => ({
        replaceOne: { filter: { _id: hash }, replacement: toMapNodeDoc(hash, node), upsert: true },
      })),
      { ordered: false },
    );
    for (const { hash, node } of next.nodes) this.cache.set(hash, node);
    return next.root;
  }
}

/** The message of a head that predates the map (before the `kt-map-1` migration ran). */
const unmigrated = (size: number) =>
  `kt: head ${size} has no subject map; run the migrations (pnpm --filter @medseal/server migrate)`;

/**
 * Reads stored node hashes a tile at a time, each tile once; with `fullTiles`, full tiles come
 * from and go to that cache (partial ones always from the database: an append changes them).
 */
class TileReader {
  private readonly tiles = new Map<string, Promise<Buffer | null>>();

  constructor(
    private readonly models: KtModels,
    private readonly fullTiles?: LRUCache<string, Buffer>,
  ) {}

  load(id: string): Promise<Buffer | null> {
    let p = this.tiles.get(id);
    if (!p) {
      const cached = this.fullTiles?.get(id);
      p = cached
        ? Promise.resolve(cached)
        : this.models.tiles
            .findById(id)
            .lean()
            .then((doc) => {
              const tile = doc ? toBuffer(doc.hashes) : null;
              if (tile && isFull(tile)) this.fullTiles?.set(id, tile);
              return tile;
            });
      this.tiles.set(id, p);
    }
    return p;
  }

  /** Fetches every tile the nodes live in, in parallel, then returns a synchronous lookup. */
  async lookupFor(nodes: readonly NodeId[]): Promise<(node: NodeId) => Uint8Array> {
    const loaded = new Map<string, Buffer | null>();
    await Promise.all(
      nodes.map(async (n) => {
        const { id } = tileSlot(n);
        loaded.set(id, await this.load(id));
      }),
    );
    return (n) => {
      const { id, at } = tileSlot(n);
      const tile = loaded.get(id);
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
  /** Full tiles and leaves, which never change once stored: a proof reads the rest. */
  private readonly fullTiles = new LRUCache<string, Buffer>({ max: CACHED_TILES });
  private readonly leaves = new LRUCache<number, string>({ max: CACHED_LEAVES });
  private readonly map: MapStore;
  /** Heads of every size up to this one exist: head n + 1 is inserted only after head n. */
  private signedSize = 0;

  constructor(
    private readonly models: KtModels,
    private readonly options: TransparencyLogOptions,
  ) {
    this.stallMs = options.stallMs ?? 10_000;
    this.map = new MapStore(models);
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

  /**
   * Returns once every leaf claimed so far is integrated (under a signed head), integrating any
   * whose appender died (after `stallMs`): a subject's listing then holds every leaf appended
   * before the call. Used before deciding that a binding is missing (team-log repair).
   */
  async settle(): Promise<void> {
    let end = (await this.latestHead())?.size ?? 0;
    while (await this.models.leaves.exists({ _id: end })) end++;
    await this.waitForHead(end);
  }

  /** Every integrated leaf listed under `subject`, oldest first. */
  async subjectLeaves(subject: string): Promise<{ index: number; data: string }[]> {
    const doc = await this.models.subjects.findById(subject).lean();
    return Promise.all(
      (doc?.indexes ?? []).map(async (index) => ({ index, data: await this.leafData(index) })),
    );
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
    /** Tiles this leaf changes, as they will be written. */
    const changed = new Map<string, Buffer>();
    const put = async (level: number, i: number, h: Uint8Array) => {
      const { id, at } = tileSlot({ level, index: i });
      let tile = changed.get(id);
      if (!tile) {
        const stored = await reader.load(id);
        tile = Buffer.alloc(TILE_BYTES);
        if (stored) stored.copy(tile);
        changed.set(id, tile);
      }
      tile.set(h, at);
    };
    const get = async (level: number, i: number) => {
      const { id, at } = tileSlot({ level, index: i });
      const tile = changed.get(id) ?? (await reader.load(id));
      if (!tile || tile.length < at + HASH) throw new Error(`kt: node ${level}:${i} is not stored`);
      return tile.subarray(at, at + HASH);
    };

    let previous = index > 0 ? await this.models.heads.findById(index).lean() : null;
    if (previous && previous.mapRoot === undefined) {
      // Appended by a process from before the map (a rolling deploy): give it its map first.
      this.options.logger.warn({ size: index }, 'kt: a head has no subject map; migrating');
      await this.migrateMap();
      previous = await this.models.heads.findById(index).lean();
    }
    const previousMapRoot = index === 0 ? EMPTY_MAP_ROOT : previous?.mapRoot;
    if (previousMapRoot === undefined) throw new Error(unmigrated(index));

    const leafHash = bindingLeafHash(leaf.data);
    let h = leafHash;
    let i = index;
    await put(0, i, h);
    for (let level = 1; i % 2 === 1; level++) {
      h = nodeHash(await get(level - 1, i - 1), h);
      i = Math.floor(i / 2);
      await put(level, i, h);
    }
    const plan = rootPlan(index + 1);
    const root = foldRange(await Promise.all(plan.map((n) => get(n.level, n.index))));

    await Promise.all(
      [...changed].map(([id, tile]) =>
        this.models.tiles.replaceOne({ _id: id }, { _id: id, hashes: tile }, { upsert: true }),
      ),
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
    const mapRoot = await this.map.append(previousMapRoot, leaf.subject, index, leafHash);
    // Never older than the previous head, so clients can refuse a head older than one they keep.
    const timestamp = Math.max(Date.now(), previous?.timestamp ?? 0);
    const head = signTreeHead(
      { v: 2, size: index + 1, root: Buffer.from(root).toString('hex'), mapRoot, timestamp },
      this.options.logKey,
    );
    try {
      await this.models.heads.create({
        _id: head.size,
        root: head.root,
        mapRoot: head.mapRoot,
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
    if (size > 0 && size <= this.signedSize) return;
    if (size === 0 || !(await this.models.heads.exists({ _id: size })))
      throw badSize(`the log has no signed tree of ${size} leaves`);
    this.signedSize = Math.max(this.signedSize, size);
  }

  private async prove(plan: readonly ProofStep[]): Promise<string[]> {
    const lookup = await new TileReader(this.models, this.fullTiles).lookupFor(plan.flat());
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
    // The leaf and the tiles in one round trip.
    const [data, proof] = await Promise.all([
      this.leafData(index),
      this.prove(inclusionPlan(index, size)),
    ]);
    return { leaf: { index, data }, proof };
  }

  /** A leaf's data; a stored leaf never changes, so it is cached. */
  private async leafData(index: number): Promise<string> {
    const cached = this.leaves.get(index);
    if (cached !== undefined) return cached;
    const leaf = await this.models.leaves.findById(index).lean();
    if (!leaf) throw new Error(`kt: leaf ${index} is missing`);
    this.leaves.set(index, leaf.data);
    return leaf.data;
  }

  /** A subject's leaf indexes inside the tree of `size` leaves. @throws AppError 400 `kt-bad-size`. */
  async subjectIndexes(subject: string, size: number): Promise<number[]> {
    await this.checkSize(size);
    const doc = await this.models.subjects.findById(subject).lean();
    return (doc?.indexes ?? []).filter((i) => i < size);
  }

  /**
   * The map's lookup proof for `subject` under the head of `size` (a size checkSize passed).
   * @throws Error when that head predates the map (the migration has not run).
   */
  async mapProof(subject: string, size: number): Promise<MapProof> {
    const head = await this.models.heads.findById(size).lean();
    if (head?.mapRoot === undefined) throw new Error(unmigrated(size));
    return this.map.lookup(head.mapRoot, subject);
  }

  /**
   * Leaves from..to-1 as an auditor needs them: RFC 9162 hash and the subject's map key, never
   * the text (a user's leaf names their email). Each by `_id`.
   * @throws AppError 400 `kt-bad-size` unless `to` has a signed head and from ≤ to ≤ from + `max`.
   */
  async leafHashes(
    from: number,
    to: number,
    max: number,
  ): Promise<{ index: number; hash: string; key: string }[]> {
    if (from > to || to - from > max) throw badSize(`give from ≤ to, at most ${max} leaves apart`);
    if (to > 0) await this.checkSize(to);
    return Promise.all(
      Array.from({ length: to - from }, async (_, k) => {
        const index = from + k;
        const leaf = await this.models.leaves.findById(index).lean();
        if (!leaf) throw new Error(`kt: leaf ${index} is missing`);
        const hash = Buffer.from(bindingLeafHash(leaf.data)).toString('hex');
        return { index, hash, key: mapKey(leaf.subject) };
      }),
    );
  }

  /**
   * Gives every head from before the subject map (v1) its map: replays the leaves in order and
   * signs each such head again as v2 with the same size, root and timestamp (so every view a
   * client or auditor kept still extends to it). Idempotent and resumable: it starts after the
   * newest head that has its map, and map nodes are addressed by hash.
   * @returns how many heads were signed again.
   */
  async migrateMap(): Promise<number> {
    // The newest head that has its map (heads get theirs in order), by `_id` going down.
    let start = (await this.latestHead())?.size ?? 0;
    let mapRoot: string | undefined;
    for (; start > 0; start--) {
      mapRoot = (await this.models.heads.findById(start).lean())?.mapRoot;
      if (mapRoot !== undefined) break;
    }
    mapRoot ??= EMPTY_MAP_ROOT;
    let migrated = 0;
    for (let size = start + 1; ; size++) {
      const head = await this.models.heads.findById(size).lean();
      if (!head) break;
      const leaf = await this.models.leaves.findById(size - 1).lean();
      if (!leaf) throw new Error(`kt: leaf ${size - 1} is missing`);
      mapRoot = await this.map.append(mapRoot, leaf.subject, size - 1, bindingLeafHash(leaf.data));
      const signed = signTreeHead(
        { v: 2, size, root: head.root, mapRoot, timestamp: head.timestamp },
        this.options.logKey,
      );
      await this.models.heads.replaceOne(
        { _id: size },
        {
          _id: size,
          root: head.root,
          mapRoot,
          timestamp: head.timestamp,
          signature: signed.signature,
        },
      );
      migrated++;
    }
    return migrated;
  }
}

function toSignedHead(doc: KtHeadDoc): SignedTreeHead {
  const base = {
    size: doc._id,
    root: doc.root,
    timestamp: doc.timestamp,
    signature: doc.signature,
  };
  // A head from before the map (not migrated yet) is served as it was signed.
  return doc.mapRoot === undefined ? { v: 1, ...base } : { v: 2, ...base, mapRoot: doc.mapRoot };
}
