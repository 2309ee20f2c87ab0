import type { Model, mongo } from 'mongoose';
import type { AuditAction } from '@medseal/contract';
import { AppError } from '../../lib/errors';
import { ChainAppender, chainEnd } from '../../lib/store';
import { AUDIT_GENESIS_HASH as GENESIS_HASH, auditEventHash as eventHash } from '../../lib/pgp';
import { eventId, type AuditDoc } from './model';

export interface AuditInput {
  recordId: string;
  ownerId: string;
  actorId: string;
  action: AuditAction;
}

interface Head {
  seq: number;
  hash: string;
}

/**
 * The record audit chains (DESIGN §8), one chain per record, written with group commit
 * (lib/store.ts ChainAppender): a burst of reads costs a few inserts instead of a
 * read-insert-update round trip each, and no update is on the hot path (FerretDB v1 measured
 * here: ~2,400 inserts/s but 70–500 updates/s). A chain's end is found by `_id` lookups alone.
 */
export class AuditLog {
  private readonly chains: ChainAppender<AuditInput, Head, AuditDoc>;
  /** When this process last appended an event, by record, actor and action (appendOncePer). */
  private readonly recent = new Map<string, number>();

  constructor(events: Model<AuditDoc>) {
    const hashAt = async (recordId: string, seq: number) =>
      (await events.findById(eventId(recordId, seq), { hash: 1 }).lean())?.hash;
    this.chains = new ChainAppender<AuditInput, Head, AuditDoc>(
      {
        // Mongoose types the native collection for ObjectId `_id`s.
        collection: events.collection as unknown as mongo.Collection<AuditDoc>,
        chainOf: (input) => input.recordId,
        loadHead: async (recordId, known) => {
          const end = await chainEnd((seq) => hashAt(recordId, seq), {
            seq: known?.seq ?? 0,
            value: known?.hash ?? GENESIS_HASH,
          });
          return { seq: end.seq, hash: end.value };
        },
        // A record's trail starts with its creation (the id of a deleted record is never reused).
        startsChain: (input) =>
          input.action === 'create' ? { seq: 0, hash: GENESIS_HASH } : undefined,
        link: (input, head, at) => {
          const seq = head.seq + 1;
          // Millisecond ISO time: what the hash covers is exactly what Date stores.
          const hash = eventHash({ ...input, seq, at: at.toISOString(), prevHash: head.hash });
          return {
            doc: {
              _id: eventId(input.recordId, seq),
              ...input,
              seq,
              at,
              prevHash: head.hash,
              hash,
            },
            head: { seq, hash },
          };
        },
      },
      (cause) =>
        new AppError({
          status: 503,
          code: 'audit-busy',
          message: 'The audit trail is busy; try again.',
          cause,
        }),
    );
  }

  /** How many events the record's chain has (its end, by `_id` lookups from what this process knows). */
  async length(recordId: string): Promise<number> {
    return (await this.chains.head(recordId)).seq;
  }

  /**
   * Appends one event per input; settles when all are stored.
   *
   * @throws AppError 503 `audit-busy` when another process kept taking the positions; the
   *   database's own error when it failed.
   */
  async append(inputs: readonly AuditInput[]): Promise<void> {
    await this.chains.append(inputs);
  }

  /**
   * Appends the events this process has not appended (same record, actor and action) within
   * `windowMs`; settles when they are stored. Bounded memory: the oldest entries go first.
   */
  async appendOncePer(inputs: readonly AuditInput[], windowMs: number): Promise<void> {
    const now = Date.now();
    const key = (i: AuditInput) => `${i.recordId}:${i.actorId}:${i.action}`;
    const due = inputs.filter((i) => now - (this.recent.get(key(i)) ?? -Infinity) >= windowMs);
    // Taken before the write, so concurrent calls do not append the same event twice.
    for (const i of due) {
      this.recent.delete(key(i));
      this.recent.set(key(i), now);
    }
    for (const oldest of this.recent.keys()) {
      if (this.recent.size <= MAX_RECENT) break;
      this.recent.delete(oldest);
    }
    try {
      await this.chains.append(due);
    } catch (error) {
      for (const i of due) if (this.recent.get(key(i)) === now) this.recent.delete(key(i));
      throw error;
    }
  }
}

/** Recent events appendOncePer remembers (about 100 bytes each). */
const MAX_RECENT = 100_000;
