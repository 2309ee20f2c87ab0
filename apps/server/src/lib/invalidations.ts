import { Schema, type Connection, type Model, type mongo } from 'mongoose';
import type { Logger } from 'pino';
import { AppError } from './errors';
import { isDuplicateKey } from './db';
import {
  ChainAppender,
  chainEnd,
  chainId,
  chainIds,
  deleteByIds,
  findByIds,
  type ChainEnd,
} from './store';
import { modelOn } from './model';
import { ReadCache, type ReadCacheOptions } from './read-cache';
import { SharedReads } from './shared-reads';

/**
 * One write's invalidation tags, for the other server processes on the same database: `_id`
 * `n:<seq>`, one gapless chain for every process (lib/store.ts), so a poll reads the next
 * events by `_id` (DESIGN §9) instead of a time range, which FerretDB v1 answered by loading
 * every event kept.
 */
export interface InvalidationDoc {
  _id: string;
  tags: string[];
  /** The writer's clock (for people reading the collection; the feed goes by seq). */
  at: Date;
}

const invalidationSchema = new Schema<InvalidationDoc>(
  {
    _id: { type: String, required: true },
    tags: { type: [String], required: true },
    at: { type: Date, required: true },
  },
  { versionKey: false, strict: 'throw' },
);

export const invalidationModel = (c: Connection) =>
  modelOn(c, 'CacheInvalidation', invalidationSchema, 'cache_invalidations');

/**
 * Two insert-only chains in one collection. Where the kept events start: `_id` `start:<k>`,
 * whose last link holds the seq up to which events may have been deleted (each link higher
 * than the one before). How far they are deleted: `_id` `cleared:<k>`, whose last link holds
 * the seq up to which every event is deleted, at or below the start; the events between the
 * two are deleted by whichever process cleans up next, so a delete that failed, or a process
 * that died in mid-delete, leaves nothing behind for good. Inserts of new `_id`s, never
 * `$max`: a lost update could lower the start below deleted events, and a process starting
 * then would take their seqs again.
 */
export interface InvalidationStartDoc {
  _id: string;
  seq: number;
}

const startSchema = new Schema<InvalidationStartDoc>(
  { _id: { type: String, required: true }, seq: { type: Number, required: true } },
  { versionKey: false, strict: 'throw' },
);

export const invalidationStartModel = (c: Connection) =>
  modelOn(c, 'CacheInvalidationStart', startSchema, 'cache_invalidation_starts');

const EVENTS = 'n';
const STARTS = 'start';
const CLEARED = 'cleared';

export interface FeedTiming {
  /** How often the feed reads other processes' invalidations. */
  pollMs: number;
  /** Caches are used only while the last good poll started less than this long ago. */
  leaseMs: number;
  /** Events are deleted once every process has had this long to read them. */
  retainMs: number;
}

export const FEED_TIMING: FeedTiming = { pollMs: 100, leaseMs: 1_000, retainMs: 30_000 };

/** Events one poll asks for per `$in`, and such windows per poll at most. */
const POLL_WINDOW = 200;
const POLL_WINDOWS = 10;
/** Events one cleanup deletes at most. */
const CLEARED_PER_CLEANUP = 10_000;
/** Appends of one notice, at most, that land below the start (publish). */
const PUBLISH_ATTEMPTS = 3;

export class InvalidationFeed {
  private readonly caches: ReadCache<object>[] = [];
  private readonly listeners = new Set<(tags: readonly string[]) => void>();
  private readonly events: ChainAppender<
    { tags: readonly string[] },
    { seq: number },
    InvalidationDoc
  >;
  /** Seqs of this process's own events the poll has not passed (applied at publish). */
  private readonly own = new Set<number>();
  /** The last event applied here; undefined before the first poll. */
  private position: number | undefined;
  /** The last link of the starts chain seen. */
  private kept: ChainEnd<number> = { seq: 0, value: 0 };
  /** Reads of the starts chain's end, shared by the calls made at once (startNow). */
  private readonly startReads = new SharedReads<number>();
  /** The last link of the cleared chain seen. */
  private cleared: ChainEnd<number> = { seq: 0, value: 0 };
  /** Positions at past cleanups: the events below one older than retainMs may go. */
  private marks: { at: number; seq: number }[] = [];
  /** Start of the last poll that read the events; 0 before the first. */
  private lastGood = 0;
  private lastCleanup = 0;
  private timer: NodeJS.Timeout | undefined;
  private stopped = false;

  constructor(
    private readonly model: Model<InvalidationDoc>,
    private readonly starts: Model<InvalidationStartDoc>,
    private readonly logger: Logger,
    private readonly timing: FeedTiming = FEED_TIMING,
  ) {
    this.events = new ChainAppender(
      {
        collection: model.collection as unknown as mongo.Collection<InvalidationDoc>,
        chainOf: () => EVENTS,
        loadHead: async (_chain, known) => ({ seq: await this.end(known?.seq) }),
        link: (input, head, at) => ({
          doc: { _id: chainId(EVENTS, head.seq + 1), tags: [...input.tags], at },
          head: { seq: head.seq + 1 },
        }),
      },
      (cause) =>
        new AppError({
          status: 503,
          code: 'database-unavailable',
          message: 'The database refused the notice; try again.',
          cause,
        }),
    );
  }

  /** A cache kept in step by this feed. */
  cache<V extends object>(options: ReadCacheOptions<V>): ReadCache<V> {
    const cache = new ReadCache<V>(options, () => this.current());
    this.caches.push(cache as unknown as ReadCache<object>);
    return cache;
  }

  /**
   * Calls `listener` with the tags of every write seen here, this process's at once and the
   * others' within about `pollMs` (e.g. to push changes to open tabs). Returns the unsubscribe.
   */
  listen(listener: (tags: readonly string[]) => void): () => void {
    this.listeners.add(listener);
    return () => this.listeners.delete(listener);
  }

  /** True while the caches may be used. */
  current(): boolean {
    return !this.stopped && this.lastGood > 0 && Date.now() - this.lastGood < this.timing.leaseMs;
  }

  /**
   * Call after a write that changes what the tags name. A failure to tell the other
   * processes fails the request: the write is stored, but a revoke or logout that other
   * processes do not hear of would keep working there until their caches expire, so the
   * client must hear it did not fully take effect and try again.
   * @throws AppError 503 `database-unavailable` when the notice could not be stored.
   */
  async publish(tags: readonly string[]): Promise<void> {
    // Applied here now; the poll that reads it back skips it.
    this.drop(tags);
    if (this.stopped) return;
    try {
      for (let attempt = 1; ; attempt++) {
        const [doc] = await this.events.append([{ tags }]);
        if (!doc) return;
        const seq = Number(doc._id.slice(EVENTS.length + 1));
        // Before any await: the poll may read the event back next.
        if (seq > (this.position ?? 0)) this.own.add(seq);
        // Read after the insert: a slot at or below the start is one a cleanup deleted an event
        // from (the start moves before the delete), so the insert did not find it taken.
        if (seq > (await this.startNow())) return;
        // The end of the chain this process kept was that old: the other processes have
        // passed this slot and would never read the notice. Append it again at the real end.
        this.own.delete(seq);
        this.events.forget(EVENTS);
        await this.model.deleteOne({ _id: doc._id });
        if (attempt === PUBLISH_ATTEMPTS)
          throw new Error(`notice ${doc._id} landed below the start`);
      }
    } catch (error) {
      throw new AppError({
        status: 503,
        code: 'database-unavailable',
        message: 'The change is stored but not yet known to every server; try again.',
        cause: error,
      });
    }
  }

  start(): void {
    if (this.timer || this.stopped) return;
    this.timer = setTimeout(() => void this.poll(), 0);
    this.timer.unref();
  }

  stop(): void {
    this.stopped = true;
    clearTimeout(this.timer);
    for (const cache of this.caches) cache.clear();
  }

  private drop(tags: readonly string[]): void {
    for (const cache of this.caches) cache.invalidate(tags);
    for (const listener of this.listeners) listener(tags);
  }

  private async poll(): Promise<void> {
    const started = Date.now();
    try {
      await this.readNew();
      this.lastGood = started;
      if (started - this.lastCleanup > this.timing.retainMs / 2) {
        this.lastCleanup = started;
        await this.cleanup(started);
      }
    } catch (error) {
      this.logger.debug({ err: (error as Error).message }, 'cache invalidation poll failed');
    }
    if (this.stopped) return;
    this.timer = setTimeout(() => void this.poll(), this.timing.pollMs);
    this.timer.unref();
  }

  /** Applies the events after `position`, by `_id` windows, in order; stops at the first missing. */
  private async readNew(): Promise<void> {
    // Events from before this process started name nothing it has cached.
    this.position ??= await this.end(undefined);
    for (let w = 0; w < POLL_WINDOWS; w++) {
      const from: number = this.position + 1;
      const found = await findByIds(this.model, chainIds(EVENTS, from, from + POLL_WINDOW - 1));
      let seq: number = from;
      for (
        let doc = found.get(chainId(EVENTS, seq));
        doc;
        doc = found.get(chainId(EVENTS, ++seq))
      ) {
        if (!this.own.delete(seq)) this.drop(doc.tags);
      }
      this.position = seq - 1;
      if (seq === from && (await this.startNow()) > this.position) {
        // Away longer than the events are kept: what was missed is unknown.
        for (const cache of this.caches) cache.clear();
        this.own.clear();
        this.position = await this.end(undefined);
      }
      if (seq - from < POLL_WINDOW) return;
    }
  }

  /**
   * The last stored event, searched by `_id` from `known` or from where the kept events start.
   * A cleanup deleting events the search passes through makes it stop at the first deleted
   * one, below the start; such an answer is searched again from the start it moved to.
   */
  private async end(known: number | undefined): Promise<number> {
    const exists = async (seq: number) =>
      (await this.model.exists({ _id: chainId(EVENTS, seq) })) ? true : undefined;
    let start = await this.startNow();
    for (let tries = 1; ; tries++) {
      const from = Math.max(known ?? 0, start);
      const found = (await chainEnd(exists, { seq: from, value: true })).seq;
      const startAfter = await this.startNow();
      // Still low after a few tries (cleanups back to back): publish and poll detect it.
      if (found >= startAfter || tries === 3) return found;
      start = startAfter;
    }
  }

  /**
   * The seq up to which events may have been deleted (the starts chain's last link), read at or
   * after this call: every publish asks once its notice is stored, so the publishes of a burst
   * share a read instead of one each (issue 11: one of the nine commands of a record POST).
   */
  private startNow(): Promise<number> {
    return this.startReads.read(STARTS, async () => {
      const found = await lastLink(this.starts, STARTS, this.kept);
      if (found.seq > this.kept.seq) this.kept = found;
      return this.kept.value;
    });
  }

  /**
   * Moves the start above the events every process has had retainMs to read (a new link, so
   * it never goes down), then deletes what lies between the cleared seq and the start.
   */
  private async cleanup(now: number): Promise<void> {
    if (this.position === undefined) return;
    this.marks.push({ at: now, seq: this.position });
    const due = this.marks.filter((m) => m.at <= now - this.timing.retainMs).pop();
    if (due) {
      this.marks = this.marks.filter((m) => m.at > due.at);
      if (due.seq > (await this.startNow())) {
        // A duplicate: another process moved it meanwhile, to where its own position allowed.
        await insertLink(this.starts, chainId(STARTS, this.kept.seq + 1), due.seq);
      }
    }
    await this.clearBelowStart();
  }

  /**
   * Deletes, by `_id`, the events from the cleared seq up to the start (10,000 at most per
   * call), then records how far it got as the next cleared link. Processes cleaning up at once
   * delete the same events (a no-op the second time); one of their links is stored.
   */
  private async clearBelowStart(): Promise<void> {
    const start = await this.startNow();
    const cleared = await lastLink(this.starts, CLEARED, this.cleared);
    if (cleared.seq > this.cleared.seq) this.cleared = cleared;
    const from = this.cleared.value + 1;
    const to = Math.min(start, this.cleared.value + CLEARED_PER_CLEANUP);
    if (to < from) return;
    await deleteByIds(this.model, chainIds(EVENTS, from, to));
    await insertLink(this.starts, chainId(CLEARED, this.cleared.seq + 1), to);
  }
}

/** The last link of the `chain` chain of starts or cleared seqs, searched from `known`. */
async function lastLink(
  model: Model<InvalidationStartDoc>,
  chain: string,
  known: ChainEnd<number>,
): Promise<ChainEnd<number>> {
  const at = async (k: number) => (await model.findById(chainId(chain, k)).lean())?.seq;
  return chainEnd(at, known);
}

/** Inserts a link; another process storing that link first is fine (the chain moved on). */
async function insertLink(
  model: Model<InvalidationStartDoc>,
  id: string,
  seq: number,
): Promise<void> {
  try {
    await model.create({ _id: id, seq });
  } catch (error) {
    if (!isDuplicateKey(error)) throw error;
  }
}
