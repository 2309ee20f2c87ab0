import { Schema, type Connection, type Model } from 'mongoose';
import { AppError } from './errors';
import { newId } from './ids';
import { modelOn } from './model';

/** One counted attempt. */
interface Hit {
  _id: string;
  key: string;
  at: Date;
  /** `at` + the window: the hit stops counting then. */
  expiresAt: Date;
}

const hitSchema = new Schema<Hit>(
  {
    _id: { type: String, required: true },
    key: { type: String, required: true, index: true },
    at: { type: Date, required: true },
    expiresAt: { type: Date, required: true, index: true },
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

/**
 * Sliding-window limits stored in the database, so every server instance shares them and none
 * keeps state in memory (DESIGN §9): a hit counts for exactly one window after it happened.
 * (Fixed windows let a burst at the end of one window and the start of the next pass twice
 * the limit, and made tests depend on where in a window they started.) Old hits are removed
 * by queries on `expiresAt` (no TTL index on FerretDB v1).
 *
 * Each attempt is its own inserted document, counted after the insert: an insert is the one
 * write FerretDB v1 makes atomic (its `$inc` and filtered updates lose concurrent writes), and
 * of N attempts racing, only those whose insert is among the first `limit` can see a count
 * within the limit — on either engine.
 */
export class RateLimiter {
  private readonly hits: Model<Hit>;

  constructor(
    connection: Connection,
    private readonly windowMs: number,
    private readonly now: () => number = Date.now,
  ) {
    this.hits = modelOn(connection, 'RateHit', hitSchema, 'rate_hits');
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
    const now = this.now();
    const id = newId();
    await this.hits.create({
      _id: id,
      key,
      at: new Date(now),
      expiresAt: new Date(now + this.windowMs),
    });
    const release = async () => {
      await this.hits.deleteOne({ _id: id });
    };
    const live = await this.hits.find({ key, expiresAt: { $gt: new Date(now) } }, { at: 1 }).lean();
    const refusedUntil = this.refusedUntil(live, id, now, rule);
    if (refusedUntil !== undefined) {
      // A refused attempt is not kept: the collection stays bounded by the limits under attack.
      await release();
      this.refuse(refusedUntil, now);
    }
    if (Math.random() < 0.02) void this.cleanup().catch(() => undefined);
    return release;
  }

  async cleanup(): Promise<void> {
    await this.hits.deleteMany({ expiresAt: { $lt: new Date(this.now()) } });
  }

  /** When the attempt `id` (already among `live`) would be allowed, if it is refused now. */
  private refusedUntil(
    live: Pick<Hit, '_id' | 'at'>[],
    id: string,
    now: number,
    rule: RateLimitRule,
  ): number | undefined {
    const excess = live.length - rule.limit;
    if (excess <= 0) return undefined;
    const times = live.map((h) => h.at.getTime()).sort((a, b) => a - b);
    if (rule.backoff) {
      const others = live.filter((h) => h._id !== id).map((h) => h.at.getTime());
      const last = Math.max(...others);
      const allowedAt = last + rule.backoff.baseMs * 2 ** (excess - 1);
      return now >= allowedAt ? undefined : allowedAt;
    }
    // Without backoff: until enough of the oldest hits have left the window.
    const oldest = times[excess - 1] ?? now;
    return oldest + this.windowMs;
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
