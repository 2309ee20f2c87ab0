import { Schema, type Model, type mongo } from 'mongoose';
import { AppError } from './errors';
import { isDuplicateKey } from './db';
import { GroupCommit, type Waiting as GroupWaiting } from './group-commit';
import { SharedReads } from './shared-reads';

/**
 * Storage helpers for `_id`-only access (DESIGN §9). FerretDB v1 answers an `_id` equality
 * from its index and, with the devdb's source fix (tools/devdb, ID_PUSHDOWN_FIX), an `_id
 * $in`, either also beside other conditions (`{_id, rev}`); every other filter or sort loads
 * the whole collection. On MongoDB the same calls use the
 * `_id` index. Append-only data lives in chains: documents `_id` `<chain>:<seq>`, numbered
 * from 1 without gaps, each written by an insert of a new `_id` (atomic on both engines,
 * where FerretDB v1 can lose concurrent `$inc` and filtered updates).
 */

/** The most `_id`s one `$in` carries (the devdb pushes up to 1,000 down to SQLite). */
const MAX_IN = 1_000;

/**
 * The documents with these `_id`s that exist, by `_id`: one indexed query per 1,000 ids. With
 * `fields`, only those (and `_id`) are sent back.
 */
export async function findByIds<T extends { _id: string }, K extends keyof T = keyof T>(
  model: Model<T>,
  ids: readonly string[],
  fields?: readonly K[],
): Promise<Map<string, Pick<T, K | '_id'>>> {
  const unique = [...new Set(ids)];
  const projection = fields && Object.fromEntries(fields.map((f) => [f, 1]));
  const found = new Map<string, Pick<T, K | '_id'>>();
  for (let i = 0; i < unique.length; i += MAX_IN) {
    const docs = (await model
      .find({ _id: { $in: unique.slice(i, i + MAX_IN) } }, projection)
      .lean()) as Pick<T, K | '_id'>[];
    for (const doc of docs) found.set(doc._id, doc);
  }
  return found;
}

/** Deletes the documents with these `_id`s: one indexed delete per 1,000 ids. */
export async function deleteByIds<T extends { _id: string }>(
  model: Model<T>,
  ids: readonly string[],
): Promise<void> {
  for (let i = 0; i < ids.length; i += MAX_IN) {
    await model.deleteMany({ _id: { $in: ids.slice(i, i + MAX_IN) } });
  }
}

/** `<chain>:<seq>`. */
export const chainId = (chain: string, seq: number) => `${chain}:${seq}`;

/** `<chain>:<from>` … `<chain>:<to>` (inclusive, `from ≤ to`; none when `to < from`). */
export const chainIds = (chain: string, from: number, to: number) =>
  Array.from({ length: Math.max(0, to - from + 1) }, (_, i) => chainId(chain, from + i));

export interface ChainEnd<V> {
  seq: number;
  value: V;
}

/**
 * The last stored link of a gapless chain, by `_id` lookups alone, starting from a link known
 * to be stored (seq 0 for the chain's start): doubles the step until a link is missing, then
 * halves the gap. About 2·log2(n) lookups for n new links, one when `known` is the end.
 * Another writer may add links meanwhile; the answer is then a little stale, never wrong.
 */
export async function chainEnd<V>(
  lookup: (seq: number) => Promise<V | undefined>,
  known: ChainEnd<V>,
): Promise<ChainEnd<V>> {
  let last = known;
  let missing = last.seq + 1;
  for (let value = await lookup(missing); value !== undefined; value = await lookup(missing)) {
    last = { seq: missing, value };
    missing = last.seq + (missing - known.seq);
  }
  while (missing - last.seq > 1) {
    const mid = Math.floor((last.seq + missing) / 2);
    const value = await lookup(mid);
    if (value === undefined) missing = mid;
    else last = { seq: mid, value };
  }
  return last;
}

/** What a ChainAppender needs to know of one kind of chain. */
export interface ChainSpec<I, H extends { seq: number }, D extends { _id: string }> {
  /** The native collection (one insert per round, no Mongoose layer on the hot path). */
  collection: mongo.Collection<D>;
  chainOf(input: I): string;
  /** The chain's stored end, from `known` (an end this process saw) or from the start. */
  loadHead(chain: string, known: H | undefined): Promise<H>;
  /** The link after `head`. */
  link(input: I, head: H, at: Date): { doc: D; head: H };
  /**
   * The head of a chain `input` starts (no lookup), if it starts one; a wrong guess costs a lost
   * round. Such an input is only ever the chain's first link: when the chain has one (a create
   * retried, or racing itself), it settles without being written.
   */
  startsChain?(input: I): H | undefined;
}

interface Waiting<I, D> extends GroupWaiting {
  input: I;
  /** Undefined: not written, the chain had its first link (ChainSpec.startsChain). */
  resolve: (doc: D | undefined) => void;
  /** Rounds in which this input lost its position to another server process. */
  lost: number;
}

/** Links written by one insert, at most. */
const MAX_BATCH = 500;
/** Chains whose end is kept in memory. */
const MAX_CACHED_HEADS = 100_000;
const MAX_LOST_ROUNDS = 20;
/** Chain ends looked up at once. */
const HEAD_LOADS_AT_ONCE = 16;

/**
 * Appends links to chains with group commit: inputs that arrive while a write is in flight go
 * together into the next one, a single ordered insert, and each caller's promise settles once
 * its own link is stored. So a burst costs a few inserts, and nothing is ever updated.
 *
 * The end of each chain is kept in memory. Another server process appending to the same chain
 * takes the position first: the insert fails with a duplicate `_id` at that link, everything
 * before it is stored (ordered insert), that chain's end is reloaded and the rest is written
 * in the next round. Links never depend on a link that was not stored. A round that fails
 * (the database did not answer) fails the inputs waiting for the next round too.
 */
export class ChainAppender<I, H extends { seq: number }, D extends { _id: string }> {
  private readonly heads = new Map<string, H>();
  /** The chain ends being loaded (head()). */
  private readonly headLoads = new SharedReads<H>();
  private readonly rounds: GroupCommit<Waiting<I, D>>;

  constructor(
    private readonly spec: ChainSpec<I, H, D>,
    /** The error for inputs that lost their position too often; `cause` is the last refusal. */
    private readonly busy: (cause: unknown) => AppError,
  ) {
    this.rounds = new GroupCommit(
      (batch) => this.writeRound(batch),
      { count: MAX_BATCH },
      // Whatever reached the database before the failure is found again by loadHead.
      (failed) => {
        for (const w of failed) this.heads.delete(this.spec.chainOf(w.input));
      },
    );
  }

  /**
   * Appends one link per input; settles with the stored links, in input order (undefined for
   * an input that starts a chain that has its first link).
   *
   * @throws the `busy` error when another process kept taking the positions; the database's
   *   own error when it failed.
   */
  append(inputs: readonly I[]): Promise<(D | undefined)[]> {
    return this.rounds.submit(inputs, (input, resolve: (doc: D | undefined) => void, reject) => ({
      input,
      resolve,
      reject,
      lost: 0,
    }));
  }

  /**
   * The chain's stored end as of this call or later (other processes may have appended since
   * this one looked), from a load shared with the calls made at once (lib/shared-reads.ts):
   * 64 first lists of one reader at once each searched a 10,000-link chain and ran into the
   * operation timeout (issue 11); with one waiting load shared, a list that arrived while the
   * database was stalled answers 503 after one timeout, not two (CI, 2026-12-05).
   */
  head(chain: string): Promise<H> {
    return this.headLoads.read(chain, () => this.loadHead(chain));
  }

  /**
   * Drops the chain's end kept in memory, for a caller that learned it was stale in a way a
   * duplicate `_id` does not show (lib/invalidations.ts: a slot whose link was deleted); the
   * next append looks it up again.
   */
  forget(chain: string): void {
    this.heads.delete(chain);
  }

  private async loadHead(chain: string): Promise<H> {
    const head = await this.spec.loadHead(chain, this.heads.get(chain));
    // An append of this process may have stored a later link meanwhile.
    const now = this.heads.get(chain);
    if (now && now.seq > head.seq) return now;
    this.remember(chain, head);
    return head;
  }

  private async writeRound(batch: Waiting<I, D>[]): Promise<void> {
    for (const w of batch) {
      const chain = this.spec.chainOf(w.input);
      const start = this.heads.has(chain) ? undefined : this.spec.startsChain?.(w.input);
      if (start) this.remember(chain, start);
    }
    const missing = [...new Set(batch.map((w) => this.spec.chainOf(w.input)))].filter(
      (c) => !this.heads.has(c),
    );
    // A few chains at a time: hundreds of lookups at once would queue for the driver's pool.
    for (let i = 0; i < missing.length; i += HEAD_LOADS_AT_ONCE) {
      await Promise.all(
        missing
          .slice(i, i + HEAD_LOADS_AT_ONCE)
          .map(async (c) => this.remember(c, await this.spec.loadHead(c, undefined))),
      );
    }

    const next = new Map<string, H>();
    const at = new Date();
    const started: Waiting<I, D>[] = [];
    const docs = batch.flatMap((w) => {
      const chain = this.spec.chainOf(w.input);
      const head = next.get(chain) ?? this.heads.get(chain);
      if (!head) throw new Error(`chain ${chain} has no head`);
      if (head.seq > 0 && this.spec.startsChain?.(w.input)) {
        started.push(w);
        return [];
      }
      const linked = this.spec.link(w.input, head, at);
      next.set(chain, linked.head);
      return [{ w, ...linked }];
    });

    const { stored, refusal } = await insertOrdered(
      this.spec.collection,
      docs.map((d) => d.doc),
    );
    for (const { w, head, doc } of docs.slice(0, stored)) {
      this.remember(this.spec.chainOf(w.input), head);
      w.resolve(doc);
    }
    // Done when their chain's first link is stored; else (it was in this round's unstored
    // rest) they go into the next round with it.
    const waiting = started.filter((w) => {
      const stored = (this.heads.get(this.spec.chainOf(w.input))?.seq ?? 0) > 0;
      if (stored) w.resolve(undefined);
      return !stored;
    });
    const rest = [...docs.slice(stored).map((d) => d.w), ...waiting];
    const loser = rest[0];
    if (!loser) return;
    const chain = this.spec.chainOf(loser.input);
    const known = this.heads.get(chain);
    if (known) this.remember(chain, await this.spec.loadHead(chain, known));
    loser.lost++;
    for (const w of rest) if (w.lost > MAX_LOST_ROUNDS) w.reject(this.busy(refusal));
    this.rounds.give(rest.filter((w) => w.lost <= MAX_LOST_ROUNDS));
  }

  /** Most recently used last; the oldest entry goes when the map is full. */
  private remember(chain: string, head: H): void {
    this.heads.delete(chain);
    this.heads.set(chain, head);
    if (this.heads.size > MAX_CACHED_HEADS) {
      const oldest = this.heads.keys().next().value;
      if (oldest !== undefined) this.heads.delete(oldest);
    }
  }
}

interface NewDoc<D> extends GroupWaiting {
  doc: D;
  resolve: (stored: D) => void;
}

/**
 * Inserts new documents with group commit: documents given while an insert is in flight go
 * together into the next one, a single ordered insert (at most `MAX_BATCH` documents, and past
 * the first at most `maxChars` of what `charsOf` counts: each round must fit in one operation's
 * timeout, lib/db.ts). A duplicate key fails only its own document: those before it are stored,
 * those after it go into the next round. A round that fails (the database did not answer)
 * fails the documents waiting for the next one too; some of them may be stored.
 */
export class GroupInserts<D extends { _id: string }> {
  private readonly rounds: GroupCommit<NewDoc<D>>;

  constructor(
    /** The native collection (the documents are complete; no Mongoose layer on the hot path). */
    private readonly collection: mongo.Collection<D>,
    size: { charsOf: (doc: D) => number; maxChars: number },
  ) {
    this.rounds = new GroupCommit((batch) => this.writeRound(batch), {
      count: MAX_BATCH,
      weight: size.maxChars,
      weigh: (w) => size.charsOf(w.doc),
    });
  }

  /**
   * Stores the documents; settles once all of them are.
   * @throws the first document's refusal (isDuplicateKey) or the database's error; the others
   *   are stored or not, each on its own.
   */
  async insert(docs: readonly D[]): Promise<void> {
    await this.rounds.submit(docs, (doc, resolve: (stored: D) => void, reject) => ({
      doc,
      resolve,
      reject,
    }));
  }

  private async writeRound(batch: NewDoc<D>[]): Promise<void> {
    const { stored, refusal } = await insertOrdered(
      this.collection,
      batch.map((w) => w.doc),
    );
    for (const w of batch.slice(0, stored)) w.resolve(w.doc);
    batch[stored]?.reject(refusal);
    this.rounds.give(batch.slice(stored + 1));
  }
}

/**
 * Inserts in order; returns how many were stored before a duplicate key, and that refusal (a
 * duplicate `_id`, or another unique index: FerretDB does not say which).
 */
async function insertOrdered<D extends { _id: string }>(
  collection: mongo.Collection<D>,
  docs: D[],
): Promise<{ stored: number; refusal?: unknown }> {
  if (docs.length === 0) return { stored: 0 };
  try {
    // The driver's insertMany, not Mongoose's: the documents are complete, and this runs on
    // the read path (audit), where Mongoose's layer cost ~7% of the GET bench's rate.
    await collection.insertMany(docs as mongo.OptionalUnlessRequiredId<D>[], { ordered: true });
    return { stored: docs.length };
  } catch (error) {
    const index = storedBeforeDuplicate(error);
    if (index !== undefined) return { stored: index, refusal: error };
    throw error;
  }
}

/**
 * For a duplicate `_id` refusing an ordered insert: how many documents before it were stored.
 * Undefined for any other error (what was stored is then unknown).
 */
export function storedBeforeDuplicate(error: unknown): number | undefined {
  // Drivers report write errors as an array or a single one, as WriteError objects
  // (getters) or plain `{err: {index}}` objects.
  type WriteError = { index?: number; err?: { index?: number } };
  const e = error as { writeErrors?: WriteError[] | WriteError };
  const first = Array.isArray(e.writeErrors) ? e.writeErrors[0] : e.writeErrors;
  const index = first?.index ?? first?.err?.index;
  return isDuplicateKey(error) ? index : undefined;
}

/** One link of an IdLists chain: `_id` `<key>:<seq>`, naming one id. */
export interface IdLinkDoc {
  _id: string;
  id: string;
}

export const idLinkSchema = new Schema<IdLinkDoc>(
  { _id: { type: String, required: true }, id: { type: String, required: true } },
  { versionKey: false, strict: 'throw' },
);

/**
 * A list of ids per key, each a chain appended with group commit (ChainAppender), so reading a
 * key's list is a few `_id` lookups and one `_id $in` (DESIGN §9) where a query by the key
 * would read the whole collection on FerretDB. Lists only grow (until dropped whole): an id
 * may be in a list twice (an append retried after a crash, or made again), and `idsOf` gives
 * it once; what still holds (is she still a member?) is for the caller to check against the
 * documents named.
 */
export class IdLists {
  private readonly chains: ChainAppender<{ key: string; id: string }, { seq: number }, IdLinkDoc>;

  constructor(private readonly links: Model<IdLinkDoc>) {
    const stored = async (key: string, seq: number) =>
      (await links.exists({ _id: chainId(key, seq) })) ? true : undefined;
    this.chains = new ChainAppender(
      {
        collection: links.collection as unknown as mongo.Collection<IdLinkDoc>,
        chainOf: (input) => input.key,
        loadHead: async (key, known) => ({
          seq: (await chainEnd((seq) => stored(key, seq), { seq: known?.seq ?? 0, value: true }))
            .seq,
        }),
        link: (input, head) => ({
          doc: { _id: chainId(input.key, head.seq + 1), id: input.id },
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

  /** Adds `id` to the list of each key. */
  async add(keys: readonly string[], id: string): Promise<void> {
    await this.chains.append(keys.map((key) => ({ key, id })));
  }

  /**
   * Deletes `key`'s list, for a list no one adds to any more (the rate limiter's list of the
   * keys hit in a past slot). Its first link goes last: a drop cut short is found again.
   */
  async drop(key: string): Promise<void> {
    const { seq } = await this.chains.head(key);
    await deleteByIds(this.links, chainIds(key, 2, seq));
    await this.links.deleteOne({ _id: chainId(key, 1) });
    this.chains.forget(key);
  }

  /** The ids in `key`'s list, each once, first added first. */
  async idsOf(key: string): Promise<string[]> {
    const { seq } = await this.chains.head(key);
    const ids = chainIds(key, 1, seq);
    const found = await findByIds(this.links, ids);
    return [...new Set(ids.flatMap((id) => found.get(id)?.id ?? []))];
  }
}
