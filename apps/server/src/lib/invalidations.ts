import { Schema, type Connection, type Model } from 'mongoose';
import type { Logger } from 'pino';
import { AppError } from './errors';
import { newId } from './ids';
import { modelOn } from './model';
import { ReadCache, type ReadCacheOptions } from './read-cache';

/** One write's invalidation tags, for the other server processes on the same database. */
export interface InvalidationDoc {
  _id: string;
  tags: string[];
  /** The writer's clock. */
  at: Date;
}

const invalidationSchema = new Schema<InvalidationDoc>(
  { _id: { type: String, required: true }, tags: { type: [String], required: true }, at: { type: Date, required: true, index: true } },
  { versionKey: false, strict: 'throw' },
);

export const invalidationModel = (c: Connection) => modelOn(c, 'CacheInvalidation', invalidationSchema, 'cache_invalidations');

export interface FeedTiming {
  /** How often the feed reads other processes' invalidations. */
  pollMs: number;
  /** Caches are used only while the last good poll started less than this long ago. */
  leaseMs: number;
  /**
   * Each poll reads back this far before the previous one started: an event stamped by a
   * writer whose clock is behind, or committed late, is still seen.
   */
  overlapMs: number;
  /** Events older than this are deleted; a feed that was away longer forgets its caches. */
  retainMs: number;
}

/**
 * On FerretDB v1 each poll scans the whole collection (only `_id` equality is pushed down), so
 * events are kept only 30 s: the scan reads about 300 events per 10 writes a second.
 */
export const FEED_TIMING: FeedTiming = { pollMs: 100, leaseMs: 1_000, overlapMs: 2_000, retainMs: 30_000 };

/**
 * Keeps the read caches of this process in step with the writes of every process on the
 * database (DESIGN §9: more server instances on one database), since FerretDB v1 has no
 * change streams. A write drops its tags here at once and inserts them as an event; every
 * process reads the new events every `pollMs` and drops the same tags. So a revoke, logout
 * or update made through another process is seen here within about `pollMs`, and at once
 * through this one. While the feed cannot read the database (longer than `leaseMs`), the
 * caches are bypassed, and after a gap longer than the events are kept they are emptied.
 * The caches' own lifetime bounds anything the feed could still miss (an event committed
 * more than `overlapMs` late).
 */
export class InvalidationFeed {
  private readonly caches: ReadCache<object>[] = [];
  private readonly listeners = new Set<(tags: readonly string[]) => void>();
  /** Events already applied, by id, with their time (forgotten once older than the overlap). */
  private readonly seen = new Map<string, number>();
  /** Start of the last poll that read the events; 0 before the first. */
  private lastGood = 0;
  private lastCleanup = 0;
  private timer: NodeJS.Timeout | undefined;
  private stopped = false;

  constructor(
    private readonly model: Model<InvalidationDoc>,
    private readonly logger: Logger,
    private readonly timing: FeedTiming = FEED_TIMING,
  ) {}

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
    const id = newId();
    const at = new Date();
    // Applied here now; the poll that reads it back skips it.
    this.seen.set(id, at.getTime());
    this.drop(tags);
    if (this.stopped) return;
    try {
      await this.model.create({ _id: id, tags, at });
    } catch (error) {
      throw new AppError({ status: 503, code: 'database-unavailable', message: 'The change is stored but not yet known to every server; try again.', cause: error });
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
      const since = (this.lastGood || started) - this.timing.overlapMs;
      const events = await this.model.find({ at: { $gt: new Date(since) } }, { tags: 1, at: 1 }).lean();
      if (this.lastGood > 0 && started - this.lastGood > this.timing.retainMs - this.timing.overlapMs) {
        for (const cache of this.caches) cache.clear();
      }
      for (const event of events) {
        if (this.seen.has(event._id)) continue;
        this.seen.set(event._id, event.at.getTime());
        this.drop(event.tags);
      }
      for (const [id, at] of this.seen) if (at <= since) this.seen.delete(id);
      this.lastGood = started;
      if (started - this.lastCleanup > this.timing.retainMs / 2) {
        this.lastCleanup = started;
        await this.model.deleteMany({ at: { $lt: new Date(started - this.timing.retainMs) } });
      }
    } catch (error) {
      this.logger.debug({ err: (error as Error).message }, 'cache invalidation poll failed');
    }
    if (this.stopped) return;
    this.timer = setTimeout(() => void this.poll(), this.timing.pollMs);
    this.timer.unref();
  }
}
