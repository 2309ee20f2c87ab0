import { Schema, type Connection, type Model } from 'mongoose';
import { AppError } from './errors';

interface Bucket {
  _id: string;
  count: number;
  expiresAt: Date;
}

export interface RateLimitRule {
  /** Most hits allowed in one window. */
  limit: number;
}

/**
 * Fixed-window counters stored in MongoDB, so every server instance shares them and none
 * keeps state in memory (DESIGN §9). A bucket is `<key>|<window index>`; when the window
 * ends the count starts again from zero, so a lock-out an attacker causes on someone's
 * account lasts one window at most. Old buckets are removed by queries on `expiresAt`
 * (no TTL index on FerretDB v1).
 */
export class RateLimiter {
  private readonly buckets: Model<Bucket>;

  constructor(
    connection: Connection,
    private readonly windowMs: number,
    private readonly now: () => number = Date.now,
  ) {
    const schema = new Schema<Bucket>(
      { _id: String, count: { type: Number, required: true }, expiresAt: { type: Date, required: true } },
      { versionKey: false },
    );
    this.buckets = connection.models.RateBucket ?? connection.model<Bucket>('RateBucket', schema, 'rate_buckets');
  }

  private bucketId(key: string): { id: string; endsAt: number } {
    const now = this.now();
    const index = Math.floor(now / this.windowMs);
    return { id: `${key}|${index}`, endsAt: (index + 1) * this.windowMs };
  }

  /** Counts one hit on `key`; throws 429 when the limit is passed. @throws AppError 429 `rate-limited`. */
  async hit(key: string, rule: RateLimitRule): Promise<void> {
    const { id, endsAt } = this.bucketId(key);
    await this.buckets.updateOne(
      { _id: id },
      { $inc: { count: 1 }, $setOnInsert: { expiresAt: new Date(endsAt) } },
      { upsert: true },
    );
    const bucket = await this.buckets.findById(id).lean();
    if (bucket && bucket.count > rule.limit) this.refuse(endsAt);
    if (Math.random() < 0.02) void this.cleanup().catch(() => undefined);
  }

  /** Throws 429 when `key` has already used up its limit, without counting. @throws AppError 429. */
  async check(key: string, rule: RateLimitRule): Promise<void> {
    const { id, endsAt } = this.bucketId(key);
    const bucket = await this.buckets.findById(id).lean();
    if (bucket && bucket.count >= rule.limit) this.refuse(endsAt);
  }

  /** Counts one hit without refusing (failures counted after the fact). */
  async count(key: string): Promise<void> {
    const { id, endsAt } = this.bucketId(key);
    await this.buckets.updateOne(
      { _id: id },
      { $inc: { count: 1 }, $setOnInsert: { expiresAt: new Date(endsAt) } },
      { upsert: true },
    );
  }

  async cleanup(): Promise<void> {
    await this.buckets.deleteMany({ expiresAt: { $lt: new Date(this.now()) } });
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
