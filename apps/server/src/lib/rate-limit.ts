import { Schema, type Connection, type Model } from 'mongoose';
import { AppError } from './errors';
import { newId } from './ids';
import { modelOn } from './model';

/** One counted attempt in one window. */
interface Hit {
  _id: string;
  /** `<key>|<window index>`. */
  bucket: string;
  expiresAt: Date;
}

const hitSchema = new Schema<Hit>(
  { _id: { type: String, required: true }, bucket: { type: String, required: true, index: true }, expiresAt: { type: Date, required: true, index: true } },
  { versionKey: false, strict: 'throw' },
);

export interface RateLimitRule {
  /** Most hits allowed in one window. */
  limit: number;
}

/**
 * Fixed-window limits stored in the database, so every server instance shares them and none
 * keeps state in memory (DESIGN §9). When the window ends the count starts again from zero,
 * so a lock-out an attacker causes on someone's account lasts one window at most. Old hits
 * are removed by queries on `expiresAt` (no TTL index on FerretDB v1).
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
   * @throws AppError 429 `rate-limited`.
   */
  async reserve(key: string, rule: RateLimitRule): Promise<() => Promise<void>> {
    const index = Math.floor(this.now() / this.windowMs);
    const endsAt = (index + 1) * this.windowMs;
    const bucket = `${key}|${index}`;
    const id = newId();
    await this.hits.create({ _id: id, bucket, expiresAt: new Date(endsAt) });
    const release = async () => {
      await this.hits.deleteOne({ _id: id });
    };
    if ((await this.hits.countDocuments({ bucket })) > rule.limit) {
      // A refused attempt is not kept: the collection stays bounded by the limits under attack.
      await release();
      this.refuse(endsAt);
    }
    if (Math.random() < 0.02) void this.cleanup().catch(() => undefined);
    return release;
  }

  async cleanup(): Promise<void> {
    await this.hits.deleteMany({ expiresAt: { $lt: new Date(this.now()) } });
  }

  private refuse(endsAt: number): never {
    const retryAfterSeconds = Math.max(1, Math.ceil((endsAt - this.now()) / 1000));
    throw new AppError({
      status: 429,
      code: 'rate-limited',
      message: 'Too many attempts; try again later.',
      details: { retryAfterSeconds },
    });
  }
}
