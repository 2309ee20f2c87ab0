import { LRUCache } from 'lru-cache';

export interface ReadCacheOptions<V> {
  /** Entries kept at most; the least recently used goes first. */
  max: number;
  /** Backstop: an entry is read again from the database after this long, whatever the feed says. */
  ttlMs: number;
  /** The invalidation tags an entry answers to, e.g. `record:<id>` or `user:<id>`. */
  tagsOf: (value: V) => readonly string[];
}

/**
 * A per-process cache of documents read on every request (sessions, records, attachment
 * lists, grant expiries). The database stays the only truth: an entry is dropped by the
 * writes that change it, in this process at once and in other processes through the
 * invalidation feed (lib/invalidations.ts), and the cache is used only while that feed is
 * current (`trusted`).
 *
 * A read that was in flight when an invalidation arrived never stores its (possibly older)
 * answer, and later readers do not join it: every invalidation moves a generation counter
 * and forgets the loads in flight.
 */
export class ReadCache<V extends object> {
  private readonly entries: LRUCache<string, V>;
  private readonly keysByTag = new Map<string, Set<string>>();
  private readonly loading = new Map<string, Promise<V | null>>();
  private generation = 0;

  constructor(
    private readonly options: ReadCacheOptions<V>,
    private readonly trusted: () => boolean,
  ) {
    this.entries = new LRUCache<string, V>({
      max: options.max,
      ttl: options.ttlMs,
      dispose: (value, key) => this.untag(key, value),
    });
  }

  /** The cached value of `key`, else `load()`'s answer (kept unless invalidated meanwhile); null is not cached. */
  async get(key: string, load: () => Promise<V | null>): Promise<V | null> {
    if (!this.trusted()) return load();
    const hit = this.entries.get(key);
    if (hit) return hit;
    const pending = this.loading.get(key);
    if (pending) return pending;
    const generation = this.generation;
    const promise = load().finally(() => {
      if (this.loading.get(key) === promise) this.loading.delete(key);
    });
    this.loading.set(key, promise);
    const value = await promise;
    if (value && generation === this.generation && this.trusted()) this.store(key, value);
    return value;
  }

  /** Drops every entry answering to one of `tags`, and every load in flight. */
  invalidate(tags: readonly string[]): void {
    this.generation++;
    this.loading.clear();
    for (const tag of tags) {
      for (const key of [...(this.keysByTag.get(tag) ?? [])]) this.entries.delete(key);
    }
  }

  /** Drops everything (the feed lost track of other processes' writes). */
  clear(): void {
    this.generation++;
    this.loading.clear();
    this.entries.clear();
  }

  private store(key: string, value: V): void {
    // set() first: replacing an entry disposes (untags) the old value under the same key.
    this.entries.set(key, value);
    for (const tag of this.options.tagsOf(value)) {
      let keys = this.keysByTag.get(tag);
      if (!keys) this.keysByTag.set(tag, (keys = new Set()));
      keys.add(key);
    }
  }

  private untag(key: string, value: V): void {
    for (const tag of this.options.tagsOf(value)) {
      const keys = this.keysByTag.get(tag);
      keys?.delete(key);
      if (keys?.size === 0) this.keysByTag.delete(tag);
    }
  }
}
