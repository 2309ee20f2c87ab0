import { Schema, type Connection, type Model, type mongo } from 'mongoose';
import type { Logger } from 'pino';
import { isDuplicateKey, LONG_OPERATION } from '../../lib/db';
import { AppError } from '../../lib/errors';
import { modelOn } from '../../lib/model';
import { ChainAppender, chainEnd, chainId, chainIds, findByIds } from '../../lib/store';
import { Turns } from '../../lib/turns';
import type { RecordDoc } from './model';

/**
 * One entry of a reader's listing feed: `_id` `<readerId>:<seq>`, seq 1, 2, … per reader in
 * the order the records changed for them (DESIGN §9: the list is a page of `_id`s the server
 * computes, so its cost grows with the page, not with the database). A record that changes
 * gets a new entry per reader; the record's `feedSeqs` names the current one, and older
 * entries are skipped when listed (they are never updated or removed: a chain has no gaps).
 */
export interface FeedDoc {
  _id: string;
  recordId: string;
}

const feedSchema = new Schema<FeedDoc>(
  { _id: { type: String, required: true }, recordId: { type: String, required: true } },
  { versionKey: false, strict: 'throw' },
);

export const feedModel = (c: Connection) => modelOn(c, 'ListingEntry', feedSchema, 'record_feed');

/**
 * Where a reader's feed ended when someone last looked: `_id` the reader id. Only a hint to
 * start the search for the end from (chainEnd), so the first list of a reader in a process
 * costs a few `_id` lookups instead of ~2·log2(n). It only ever names a stored entry (written
 * after the entry was seen stored, with `$max`), and entries are never removed; a write it
 * loses to a racing one (FerretDB v1) leaves it lower, which costs a few lookups, never a
 * wrong answer.
 */
export interface FeedHintDoc {
  _id: string;
  seq: number;
}

const feedHintSchema = new Schema<FeedHintDoc>(
  { _id: { type: String, required: true }, seq: { type: Number, required: true } },
  { versionKey: false, strict: 'throw' },
);

export const feedHintModel = (c: Connection) =>
  modelOn(c, 'ListingHint', feedHintSchema, 'record_feed_hints');

/**
 * The hint moves when a search for the end went this far past it, and on every this-many-th
 * entry appended: a search from the hint costs at most ~2·log2(HINT_STEP) lookups, and the
 * hints cost one small write per HINT_STEP entries.
 */
const HINT_STEP = 32;

interface FeedInput {
  readerId: string;
  recordId: string;
}

/** Not a seq: the record is in no listing of that reader (yet). */
export const UNLISTED = 0;

/** The record's `feedSeqs`, one per `readerIds` entry (UNLISTED for a record the feed misses). */
export function feedSeqsOf(record: Pick<RecordDoc, 'readerIds' | 'feedSeqs'>): number[] {
  const seqs = record.feedSeqs;
  return seqs?.length === record.readerIds.length ? seqs : record.readerIds.map(() => UNLISTED);
}

/** A care team's listing feed: the records shared with it, listed for its current members. */
export const teamFeedId = (teamId: string) => `team:${teamId}`;

/** The record's `teamFeedSeqs`, one per `teams` entry. */
export function teamFeedSeqsOf(record: Pick<RecordDoc, 'teams' | 'teamFeedSeqs'>): number[] {
  const teams = record.teams ?? [];
  const seqs = record.teamFeedSeqs;
  return seqs?.length === teams.length ? seqs : teams.map(() => UNLISTED);
}

/** True when entry `seq` of `readerId`'s feed is the record's current one for that reader. */
export function isListedAt(
  record: Pick<RecordDoc, 'readerIds' | 'feedSeqs'>,
  readerId: string,
  seq: number,
): boolean {
  const i = record.readerIds.indexOf(readerId);
  return i >= 0 && feedSeqsOf(record)[i] === seq;
}

/** The readers' listing feeds, appended with group commit (lib/store.ts). */
export class ListingFeed {
  private readonly chains: ChainAppender<FeedInput, { seq: number }, FeedDoc>;
  /** Feed entries by `_id` (recordId), kept because they are immutable (window). */
  private readonly known = new Map<string, string>();
  /** Each reader's hint writes in this process, one after the other (see `hint`). */
  private readonly hintWrites = new Turns();

  constructor(
    private readonly entries: Model<FeedDoc>,
    private readonly hints: Model<FeedHintDoc>,
  ) {
    const stored = async (readerId: string, seq: number) =>
      (await entries.exists({ _id: chainId(readerId, seq) })) ? true : undefined;
    this.chains = new ChainAppender<FeedInput, { seq: number }, FeedDoc>(
      {
        collection: entries.collection as unknown as mongo.Collection<FeedDoc>,
        chainOf: (input) => input.readerId,
        loadHead: async (readerId, known) => {
          const from = known?.seq ?? (await hints.findById(readerId).lean())?.seq ?? 0;
          const end = await chainEnd((seq) => stored(readerId, seq), { seq: from, value: true });
          if (end.seq - from >= HINT_STEP) await this.hint(readerId, end.seq);
          return { seq: end.seq };
        },
        link: (input, head) => ({
          doc: { _id: chainId(input.readerId, head.seq + 1), recordId: input.recordId },
          head: { seq: head.seq + 1 },
        }),
      },
      (cause) =>
        new AppError({
          status: 503,
          code: 'store-busy',
          message: 'The database is busy; try again.',
          cause,
        }),
    );
  }

  /**
   * Puts the record at the top of each reader's feed; returns the entries' seqs, one per
   * reader (the record's new `feedSeqs`). Not async on purpose: calls made in one turn keep
   * their order in each feed.
   */
  add(recordId: string, readerIds: readonly string[]): Promise<number[]> {
    return this.chains
      .append(readerIds.map((readerId) => ({ readerId, recordId })))
      .then(async (docs) => {
        const seqs = docs.map((d) => {
          if (!d) throw new Error('a feed entry starts no chain, so it is always written');
          this.remember(d._id, d.recordId);
          return Number(d._id.slice(d._id.lastIndexOf(':') + 1));
        });
        await Promise.all(
          seqs.map((seq, i) => {
            const readerId = readerIds[i];
            return seq % HINT_STEP === 0 && readerId ? this.hint(readerId, seq) : undefined;
          }),
        );
        return seqs;
      });
  }

  /**
   * Moves the reader's hint up to `seq`, a stored entry. FerretDB v1 applies `$max` as a read
   * and a write, so two at once can lose the higher one (DESIGN §9): one process writes a
   * reader's hints one after the other. Across processes a lost write only leaves the hint
   * lower, which costs a longer search, never a wrong end.
   */
  private hint(readerId: string, seq: number): Promise<void> {
    const write = async () => {
      const raise = () =>
        this.hints.updateOne({ _id: readerId }, { $max: { seq } }, { upsert: true });
      try {
        await raise();
      } catch (error) {
        // Two first hints of a reader at once (other processes): the other one's upsert inserted
        // it, so this one is now an update of that document.
        if (!isDuplicateKey(error)) throw error;
        await raise();
      }
    };
    return this.hintWrites.run(readerId, write);
  }

  /** The seq of the reader's newest entry (0: none). */
  async head(readerId: string): Promise<number> {
    return (await this.chains.head(readerId)).seq;
  }

  /** Entries `below - 1` down to `below - size` (not below 1), newest first, in one `_id $in` query. */
  async window(
    readerId: string,
    below: number,
    size: number,
  ): Promise<{ seq: number; recordId: string }[]> {
    const ids = chainIds(readerId, Math.max(1, below - size), below - 1).reverse();
    const missing = ids.filter((id) => !this.known.has(id));
    if (missing.length > 0) {
      for (const [id, entry] of await findByIds(this.entries, missing))
        this.remember(id, entry.recordId);
    }
    return ids.flatMap((id) => {
      const recordId = this.known.get(id);
      return recordId === undefined
        ? []
        : [{ seq: Number(id.slice(id.lastIndexOf(':') + 1)), recordId }];
    });
  }

  /** Entries never change once stored, so this process keeps the last ones it read or wrote. */
  private remember(id: string, recordId: string): void {
    this.known.set(id, recordId);
    if (this.known.size > MAX_KNOWN_ENTRIES) {
      const oldest = this.known.keys().next().value;
      if (oldest !== undefined) this.known.delete(oldest);
    }
  }
}

/** Feed entries a process keeps in memory (about 100 bytes each). */
const MAX_KNOWN_ENTRIES = 200_000;

/** Records not in the feed yet are added per this many (one group-committed insert each). */
const MIGRATION_BATCH = 200;

/**
 * Builds the listing feed of records stored before it existed (no `feedSeqs`), oldest change
 * first, so each reader's feed is in the order the old list showed. Idempotent: a record
 * that has its `feedSeqs` is left alone, and entries of a run that died half-way are skipped
 * as stale. One full scan of the records, at startup, until a run completes.
 */
export async function migrateListingFeed(input: {
  records: Model<RecordDoc>;
  feed: ListingFeed;
  logger: Logger;
}): Promise<number> {
  const { records, feed, logger } = input;
  const old = await records
    .find({ feedSeqs: { $exists: false } }, { readerIds: 1, rev: 1, updatedAt: 1 }, LONG_OPERATION)
    .lean();
  old.sort((a, b) => a.updatedAt.getTime() - b.updatedAt.getTime() || (a._id < b._id ? -1 : 1));
  let migrated = 0;
  for (let i = 0; i < old.length; i += MIGRATION_BATCH) {
    const batch = old.slice(i, i + MIGRATION_BATCH);
    const seqs = await Promise.all(batch.map((r) => feed.add(r._id, r.readerIds)));
    const results = await Promise.all(
      batch.map((r, j) =>
        records.updateOne(
          { _id: r._id, rev: r.rev, feedSeqs: { $exists: false } },
          { $set: { feedSeqs: seqs[j] } },
        ),
      ),
    );
    migrated += results.filter((r) => r.modifiedCount === 1).length;
  }
  if (old.length > 0) logger.info({ migrated, found: old.length }, 'listing feed: records added');
  return migrated;
}
