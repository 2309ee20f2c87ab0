import type { mongo } from 'mongoose';
import type { AuditAction } from '@medseal/contract';
import { AppError } from '../../lib/errors';
import type { Models } from '../../services';
import { eventHash, GENESIS_HASH } from './chain';
import { eventId, type AuditDoc } from './model';
import { isDuplicateKey } from '../../lib/db';

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

interface Waiting {
  input: AuditInput;
  resolve: () => void;
  reject: (error: unknown) => void;
  /** Rounds in which this event lost its position to another server process. */
  lost: number;
}

/** Events written by one insert, at most. */
const MAX_BATCH = 500;
/** Records whose last link is kept in memory (about 150 bytes each). */
const MAX_CACHED_HEADS = 100_000;
const MAX_LOST_ROUNDS = 20;

/**
 * The record audit chains (DESIGN §8), written with group commit: events that arrive while
 * a write is in flight go together into the next one, a single ordered insert, and each
 * caller's promise settles once its own event is stored. So a burst of reads costs a few
 * inserts instead of a read-insert-update round trip each, and no update is on the hot
 * path (FerretDB v1 measured here: ~2,400 inserts/s but 70–500 updates/s).
 *
 * The last link of each chain is kept in memory. A record not in memory has its end found
 * by `_id` lookups alone (loadHead), so nothing but the events is ever written. Another
 * server process appending to the same chain takes the position first: the insert fails
 * with a duplicate `_id` at that event, everything before it is stored (ordered insert),
 * that record's head is reloaded and the rest is written in the next round. Links never
 * depend on an event that was not stored.
 */
export class AuditLog {
  private readonly heads = new Map<string, Head>();
  private queue: Waiting[] = [];
  private writing = false;

  /** The native collection under the model (Mongoose types it for ObjectId `_id`s). */
  private readonly events: mongo.Collection<AuditDoc>;

  constructor(private readonly models: Pick<Models, 'audit'>) {
    this.events = models.audit.collection as unknown as mongo.Collection<AuditDoc>;
  }

  /**
   * Appends one event per input; settles when all are stored.
   *
   * @throws AppError 503 `audit-busy` when another process kept taking the positions; the
   *   database's own error when it failed.
   */
  append(inputs: readonly AuditInput[]): Promise<void> {
    const stored = Promise.all(inputs.map((input) => new Promise<void>((resolve, reject) => this.queue.push({ input, resolve, reject, lost: 0 }))));
    if (!this.writing) void this.writeAll();
    return stored.then(() => undefined);
  }

  private async writeAll(): Promise<void> {
    this.writing = true;
    try {
      while (this.queue.length > 0) {
        const batch = this.queue.splice(0, MAX_BATCH);
        try {
          await this.writeRound(batch);
        } catch (error) {
          // Whatever reached the database before the failure is found again by the walk.
          for (const w of batch) this.heads.delete(w.input.recordId);
          for (const w of batch) w.reject(error);
        }
      }
    } finally {
      this.writing = false;
    }
  }

  private async writeRound(batch: Waiting[]): Promise<void> {
    const missing = [...new Set(batch.map((w) => w.input.recordId))].filter((id) => !this.heads.has(id));
    await Promise.all(missing.map(async (id) => this.remember(id, await this.loadHead(id))));

    const next = new Map<string, Head>();
    const at = new Date();
    const docs: AuditDoc[] = batch.map(({ input }) => {
      const head = next.get(input.recordId) ?? this.heads.get(input.recordId) ?? { seq: 0, hash: GENESIS_HASH };
      const seq = head.seq + 1;
      // Millisecond ISO time: what the hash covers is exactly what Date stores.
      const hash = eventHash({ ...input, seq, at: at.toISOString(), prevHash: head.hash });
      next.set(input.recordId, { seq, hash });
      return { _id: eventId(input.recordId, seq), ...input, seq, at, prevHash: head.hash, hash };
    });

    const stored = await this.insertOrdered(docs);
    for (const [i, doc] of docs.slice(0, stored).entries()) {
      this.remember(doc.recordId, { seq: doc.seq, hash: doc.hash });
      batch[i]?.resolve();
    }
    if (stored < docs.length) {
      const taken = docs[stored];
      if (taken) this.heads.delete(taken.recordId);
      const rest = batch.slice(stored);
      const loser = rest[0];
      if (loser) loser.lost++;
      for (const w of rest) {
        if (w.lost > MAX_LOST_ROUNDS) w.reject(new AppError({ status: 503, code: 'audit-busy', message: 'The audit trail is busy; try again.' }));
        else this.queue.push(w);
      }
    }
  }

  /** Inserts in order; returns how many were stored before a duplicate position. */
  private async insertOrdered(docs: AuditDoc[]): Promise<number> {
    try {
      // The driver's insertMany, not Mongoose's: the documents are complete, and this runs once
      // per round on the read path, where Mongoose's layer cost ~7% of the GET bench's rate.
      await this.events.insertMany(docs, { ordered: true });
      return docs.length;
    } catch (error) {
      // Drivers report write errors as an array or a single one, as WriteError objects
      // (getters) or plain `{err: {index}}` objects.
      type WriteError = { index?: number; err?: { index?: number } };
      const e = error as { writeErrors?: WriteError[] | WriteError };
      const first = Array.isArray(e.writeErrors) ? e.writeErrors[0] : e.writeErrors;
      const index = first?.index ?? first?.err?.index;
      if (isDuplicateKey(error) && index !== undefined) return index;
      throw error;
    }
  }

  /**
   * The end of a record's stored chain, by `_id` alone (the only lookup FerretDB v1 indexes).
   * Events are numbered from 1 without gaps and never removed, so this doubles the position
   * until an event is missing, then halves the gap: about 2·log2(n) lookups for n events (24
   * for 4,000). Another writer may add events meanwhile; a stale end only costs a lost round.
   */
  private async loadHead(recordId: string): Promise<Head> {
    const hashAt = async (seq: number) => (await this.models.audit.findById(eventId(recordId, seq), { hash: 1 }).lean())?.hash;
    let last: Head = { seq: 0, hash: GENESIS_HASH };
    let missing = 1;
    for (let hash = await hashAt(missing); hash !== undefined; hash = await hashAt(missing)) {
      last = { seq: missing, hash };
      missing *= 2;
    }
    while (missing - last.seq > 1) {
      const mid = Math.floor((last.seq + missing) / 2);
      const hash = await hashAt(mid);
      if (hash === undefined) missing = mid;
      else last = { seq: mid, hash };
    }
    return last;
  }

  /** Most recently used last; the oldest entry goes when the map is full. */
  private remember(recordId: string, head: Head): void {
    this.heads.delete(recordId);
    this.heads.set(recordId, head);
    if (this.heads.size > MAX_CACHED_HEADS) {
      const oldest = this.heads.keys().next().value;
      if (oldest !== undefined) this.heads.delete(oldest);
    }
  }
}
