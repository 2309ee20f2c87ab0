import { Schema, type Connection, type Model } from 'mongoose';
import { isDuplicateKey } from './db';
import { AppError } from './errors';
import { modelOn } from './model';
import { chainId, findByIds, IdLists, idLinkSchema } from './store';

/** Why a hit stopped counting: refused, released by its caller, or moved to the next slot. */
type Gone = 'refused' | 'released' | 'late';

/**
 * One attempt on a key: `_id` `<key>:<slot>:<n>`, the n-th attempt stored in that slot (a
 * stretch of time one window long). Written by an insert of a new `_id`; only its own
 * attempt ever updates it (to say it is gone), and only a cleanup of a past slot deletes it.
 */
interface HitDoc {
  _id: string;
  at: Date;
  gone?: Gone;
}

const hitSchema = new Schema<HitDoc>(
  {
    _id: { type: String, required: true },
    at: { type: Date, required: true },
    gone: { type: String, enum: ['refused', 'released', 'late'] },
  },
  { versionKey: false, strict: 'throw' },
);

export interface RateLimitRule {
  /** Most hits allowed in any window (of the limiter's length) ending now. */
  limit: number;
  /**
   * Past the limit, instead of refusing until the window has slid past: allow one more hit
   * after `baseMs` since the last one, then after twice that, and so on (exponential backoff).
   */
  backoff?: { baseMs: number };
}

/** A stored hit as a view sees it. */
interface SeenHit {
  slot: number;
  n: number;
  at: number;
  /** Not refused, released or moved: it counts while in the window. */
  counts: boolean;
}

/** A key's hits in the slots a window can reach, and whether the next slot has one. */
interface View {
  hits: SeenHit[];
  /** Per slot read, the last number stored. */
  last: Map<number, number>;
  /** The slot after the attempt's has a hit (another attempt's clock is already there). */
  later: boolean;
}

/** Numbers looked up beyond the limit in a slot's first page (refused and released hits). */
const PAGE_SPARE = 16;
/**
 * The most numbers of one slot looked up at once: pages double up to it (the benches' limit
 * is 1e9).
 */
const MAX_PAGE = 500;
/** Numbers of one key's past slot deleted per command. */
const DELETE_PAGE = 100;
/**
 * Slots older than the newest cleanable one that a cleanup still looks at (a database left
 * alone for longer keeps those hits: bounded, never read again).
 */
const CLEANUP_LOOKBACK = 16;

const hitId = (key: string, slot: number, n: number) => `${key}:${slot}:${n}`;
const numbers = (from: number, to: number) =>
  Array.from({ length: Math.max(0, to - from + 1) }, (_, i) => from + i);

/**
 * Sliding-window limits stored in the database, so every server instance shares them and none
 * keeps state in memory (DESIGN §9): a hit counts for exactly one window after it happened.
 * (Fixed windows let a burst at the end of one window and the start of the next pass twice
 * the limit.)
 *
 * Every command is an `_id` lookup, insert or `_id` update/delete (issue 11: FerretDB v1
 * answers any other filter by reading the whole collection). Time is cut into slots one window
 * long; the attempts on a key in a slot are numbered from 1 without gaps, each stored by an
 * insert of a new `_id` (atomic on both engines; a duplicate means another attempt won that
 * number, and the next one is tried). A window reaches back into the previous slot only, so
 * a key's hits are the numbers of two slots, read with `_id $in`.
 *
 * An attempt is stored before it is judged, and judged on the hits before it in the order
 * (slot, number): of N attempts racing, exactly the first `limit` pass. A hit counts until it
 * says it is gone (refused, released), so an attempt still being judged counts for those
 * after it. An attempt stored in a slot whose next slot already has a hit (clocks at a slot's
 * edge) is moved there, so that no attempt is judged without one stored after it that it did
 * not see: whichever of two attempts is last in the order reads the other.
 */
export class RateLimiter {
  private readonly hits: Model<HitDoc>;
  /** Per slot (`<window>:<slot>`), the keys hit in it: what a cleanup deletes. */
  private readonly slotKeys: IdLists;
  private readonly slotKeyLinks: Model<{ _id: string; id: string }>;
  /** The newest slot this process has cleaned up to, and the cleanup running. */
  private cleanedThrough = -Infinity;
  private cleaning: Promise<void> | undefined;

  constructor(
    connection: Connection,
    private readonly windowMs: number,
    private readonly now: () => number = Date.now,
  ) {
    this.hits = modelOn(connection, 'RateHit', hitSchema, 'rate_hits');
    this.slotKeyLinks = modelOn(connection, 'RateSlotKey', idLinkSchema, 'rate_slot_keys');
    this.slotKeys = new IdLists(this.slotKeyLinks);
  }

  /** Counts one hit on `key`; throws 429 when the limit is passed. @throws AppError 429 `rate-limited`. */
  async hit(key: string, rule: RateLimitRule): Promise<void> {
    await this.reserve(key, rule);
  }

  /**
   * Counts one attempt on `key` before the caller does the work (refusing once the limit is
   * passed) and returns `release`, which takes it back — for limits on failures only: a
   * successful login releases its slot. Counting first means parallel attempts cannot all
   * pass a check made before any of them is counted.
   *
   * @throws AppError 429 `rate-limited` with `details.retryAfterSeconds`.
   */
  async reserve(key: string, rule: RateLimitRule): Promise<() => Promise<void>> {
    const at = this.now();
    this.startCleanup(at);
    for (let slot = this.slotOf(at); ; slot++) {
      // Refused without a write when the stored hits already say so: under attack the
      // collection grows only by the attempts that race.
      const seen = await this.view(key, at, slot, rule.limit);
      if (seen.later) continue;
      const refusedFirst = this.refusedUntil(seen.hits, at, rule);
      if (refusedFirst !== undefined) this.refuse(refusedFirst, at);
      const first = (seen.last.get(slot) ?? 0) + 1;
      // Listed before stored, so a cleanup finds every slot's keys.
      if (first === 1) await this.slotKeys.add([this.slotName(slot)], key);
      const n = await this.insert(key, slot, first, at);
      const id = hitId(key, slot, n);

      const after = await this.view(key, at, slot, rule.limit);
      if (after.later) {
        await this.markGone(id, 'late');
        continue;
      }
      const before = after.hits.filter((h) => h.slot < slot || (h.slot === slot && h.n < n));
      const refusedUntil = this.refusedUntil(before, at, rule);
      if (refusedUntil !== undefined) {
        await this.markGone(id, 'refused');
        this.refuse(refusedUntil, at);
      }
      return () => this.markGone(id, 'released');
    }
  }

  /**
   * Deletes the hits of the slots no attempt reads any more (a view reaches back one slot
   * before its own, which is at most one above its clock's), and their lists of keys, each
   * list last so that a cleanup cut short is done again.
   */
  async cleanup(): Promise<void> {
    const newest = this.slotOf(this.now()) - 3;
    const slots = numbers(newest - CLEANUP_LOOKBACK + 1, newest);
    const listed = await findByIds(
      this.slotKeyLinks,
      slots.map((s) => chainId(this.slotName(s), 1)),
    );
    for (const slot of slots) {
      const name = this.slotName(slot);
      if (!listed.has(chainId(name, 1))) continue;
      for (const key of await this.slotKeys.idsOf(name)) await this.deleteHits(key, slot);
      await this.slotKeys.drop(name);
    }
    this.cleanedThrough = Math.max(this.cleanedThrough, newest);
  }

  private slotOf(at: number): number {
    return Math.floor(at / this.windowMs);
  }

  private slotName(slot: number): string {
    return `${this.windowMs}:${slot}`;
  }

  /** Stores the attempt at number `n` of the slot, or the first free number after it. */
  private async insert(key: string, slot: number, n: number, at: number): Promise<number> {
    for (let taken = n; ; taken++) {
      try {
        await this.hits.create({ _id: hitId(key, slot, taken), at: new Date(at) });
        return taken;
      } catch (error) {
        if (!isDuplicateKey(error)) throw error;
      }
    }
  }

  private async markGone(id: string, gone: Gone): Promise<void> {
    await this.hits.updateOne({ _id: id }, { $set: { gone } });
  }

  /**
   * The key's hits in the slots a window ending at `at` reaches, up to `slot`: each slot's
   * numbers from 1 until one is missing, first `limit` + a few (one `$in` for all slots), then
   * pages twice as long for a slot that had that many.
   */
  private async view(key: string, at: number, slot: number, limit: number): Promise<View> {
    const laterId = hitId(key, slot + 1, 1);
    const hits: SeenHit[] = [];
    const last = new Map<number, number>();
    let later = false;
    let pages = numbers(this.slotOf(at - this.windowMs), slot).map((s) => ({
      slot: s,
      from: 1,
      size: Math.min(limit + PAGE_SPARE, MAX_PAGE),
    }));
    for (let round = 0; pages.length > 0; round++) {
      const ids = pages.flatMap((p) =>
        numbers(p.from, p.from + p.size - 1).map((n) => hitId(key, p.slot, n)),
      );
      const found = await findByIds(this.hits, round === 0 ? [...ids, laterId] : ids);
      if (round === 0) later = found.has(laterId);
      const next: typeof pages = [];
      for (const p of pages) {
        let n = p.from;
        for (
          let doc = found.get(hitId(key, p.slot, n));
          doc;
          doc = found.get(hitId(key, p.slot, n))
        ) {
          hits.push({ slot: p.slot, n, at: doc.at.getTime(), counts: doc.gone === undefined });
          n++;
        }
        last.set(p.slot, n - 1);
        if (n === p.from + p.size)
          next.push({ slot: p.slot, from: n, size: Math.min(p.size * 2, MAX_PAGE) });
      }
      pages = next;
    }
    return { hits, last, later };
  }

  /** When an attempt at `at`, after the hits `before` it, would be allowed, if it is refused now. */
  private refusedUntil(before: SeenHit[], at: number, rule: RateLimitRule): number | undefined {
    const live = before.filter((h) => h.counts && h.at > at - this.windowMs).map((h) => h.at);
    const excess = live.length + 1 - rule.limit;
    if (excess <= 0) return undefined;
    if (rule.backoff) {
      const allowedAt = Math.max(...live) + rule.backoff.baseMs * 2 ** (excess - 1);
      return at >= allowedAt ? undefined : allowedAt;
    }
    // Without backoff: until enough of the oldest hits have left the window.
    const times = [...live, at].sort((a, b) => a - b);
    return (times[excess - 1] ?? at) + this.windowMs;
  }

  /** Once per slot and process, in the background: a failed cleanup is tried again next time. */
  private startCleanup(at: number): void {
    if (this.cleaning || this.slotOf(at) - 3 <= this.cleanedThrough) return;
    this.cleaning = this.cleanup()
      .catch(() => undefined)
      .finally(() => {
        this.cleaning = undefined;
      });
  }

  private async deleteHits(key: string, slot: number): Promise<void> {
    for (let from = 1; ; from += DELETE_PAGE) {
      const ids = numbers(from, from + DELETE_PAGE - 1).map((n) => hitId(key, slot, n));
      const { deletedCount } = await this.hits.deleteMany({ _id: { $in: ids } });
      if (deletedCount < DELETE_PAGE) return;
    }
  }

  private refuse(until: number, now: number): never {
    const retryAfterSeconds = Math.max(1, Math.ceil((until - now) / 1000));
    throw new AppError({
      status: 429,
      code: 'rate-limited',
      message: 'Too many attempts; try again later.',
      details: { retryAfterSeconds },
    });
  }
}
