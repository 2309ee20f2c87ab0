import { Schema, type Connection, type Model } from 'mongoose';
import { modelOn } from './model';
import { DB_TIMEOUTS, isDuplicateKey } from './db';

/** A claim whose writer died (the guarded document never moved on) is taken back after this long. */
export const STALE_CLAIM_MS = 60_000;

/**
 * The right to move one document from one state to the next, e.g. `record:<id>:<rev + 1>`.
 * Held only while that one write runs.
 */
export interface ClaimDoc {
  _id: string;
  createdAt: Date;
}

const claimSchema = new Schema<ClaimDoc>(
  { _id: { type: String, required: true }, createdAt: { type: Date, required: true } },
  { versionKey: false, strict: 'throw' },
);

export const claimModel = (c: Connection) => modelOn(c, 'WriteClaim', claimSchema, 'write_claims');

/** What withClaim uses: the claims collection (lib/ takes a model, never the services bag). */
export interface ClaimStore {
  models: { claims: Model<ClaimDoc> };
}

/**
 * Runs a compare-and-set write (an update filtered on the version the caller read) only
 * while holding the claim `id` for the version it writes. MongoDB's filtered update alone
 * would do, but FerretDB v1 lets two racing `updateOne({_id, version})` both match, and the
 * later one then silently undoes the other (a grant based on a stale read could put back a
 * user a revoke had just taken off). The claim's unique `_id` lets only one writer per
 * version run its write at a time; the claim is removed when the write is done. One left by
 * a writer that died is taken back by the next writer after STALE_CLAIM_MS, if
 * `stillUnchanged()` says the guarded document never moved on.
 *
 * Returns what `write` returned, or `undefined` when another writer holds the claim (the
 * caller re-reads and tries again, or reports a conflict). A write that was stored is reported
 * as done even when giving its claim back fails. When the database fails (a timeout, a lost
 * connection), the claim may be stored though its writer never learned it (the insert landed
 * after its answer was lost) or could not give it back: it is given back in the background as
 * soon as the database answers again, so the writer's retry is not refused for STALE_CLAIM_MS
 * (a device whose save was answered 503 under load then got 409 on every retry; CI, 2026-12-04).
 * A write that failed while the database still answers gives its claim back before its error
 * is thrown (a re-key retried at once after its 503 was refused 409; 2026-12-06).
 */
export async function withClaim<T>(
  s: ClaimStore,
  id: string,
  stillUnchanged: () => Promise<boolean>,
  write: () => Promise<T>,
  /** Takes and gives back the claim together with the other writes of a batch. */
  group?: ClaimGroup,
): Promise<T | undefined> {
  const claim = { _id: id, createdAt: new Date() };
  const giveBack = () =>
    group
      ? group.giveBack(claim)
      : s.models.claims
          .deleteOne({ _id: claim._id, createdAt: claim.createdAt })
          .then(() => undefined);
  const take = async () => {
    try {
      return await (group ? group.take(claim) : tryClaim(s, claim));
    } catch (error) {
      giveBackLater(s, claim);
      throw error;
    }
  };
  if (!(await take())) {
    if (!(await clearStaleClaim(s, id, stillUnchanged)) || !(await take())) return undefined;
  }
  let written: T;
  try {
    written = await write();
  } catch (error) {
    // The write's own error is the answer, not a failure to give the claim back. A database
    // that answers (the write was refused, or only its connection was lost) has the claim back
    // before the answer goes out, so a retry right after it is not refused; a stalled one is
    // not waited for past one operation's timeout from the claim (the answer stays within
    // DB_TIMEOUTS), and the claim is given back in the background.
    const left = claim.createdAt.getTime() + DB_TIMEOUTS.timeoutMS - Date.now();
    if (!(await succeedsWithin(giveBack(), left))) giveBackLater(s, claim);
    throw error;
  }
  // Once the write is stored, a claim that cannot be given back (the database failed just then)
  // names a version the document has moved past: no writer asks for it again, so the write
  // still counts as done.
  await giveBack().catch(() => undefined);
  return written;
}

/** True when `work` succeeds within `ms`; false when it fails or takes longer (it runs on). */
async function succeedsWithin(work: Promise<unknown>, ms: number): Promise<boolean> {
  let timer: NodeJS.Timeout | undefined;
  const late = new Promise<boolean>((resolve) => {
    timer = setTimeout(() => resolve(false), Math.max(ms, 0));
  });
  try {
    return await Promise.race([
      work.then(
        () => true,
        () => false,
      ),
      late,
    ]);
  } finally {
    clearTimeout(timer);
  }
}

/** The first wait before giving a claim back, doubled after each try up to the last. */
const GIVE_BACK_WAITS_MS = { first: 250, last: 4_000 };

/**
 * Gives back a claim whose writer failed, without keeping it waiting: tries until the claim
 * is found and removed, or until it would count as stale anyway (the next writer then takes it
 * back itself). A claim whose insert failed may still land later, so "not found" tries again
 * too. Removes only this writer's claim (`_id` and `createdAt`), so trying again is safe.
 */
function giveBackLater(s: ClaimStore, claim: ClaimDoc): void {
  const until = claim.createdAt.getTime() + STALE_CLAIM_MS;
  const attempt = (wait: number) => {
    const again = () => {
      if (Date.now() + wait < until) attempt(Math.min(wait * 2, GIVE_BACK_WAITS_MS.last));
    };
    setTimeout(() => {
      s.models.claims
        .deleteOne({ _id: claim._id, createdAt: claim.createdAt })
        .then((removed) => (removed.deletedCount === 1 ? undefined : again()), again);
    }, wait).unref();
  };
  attempt(GIVE_BACK_WAITS_MS.first);
}

/**
 * Claims taken and given back by group commit, for the writes of one batch (sharing many
 * records): claims asked for while an insert runs go together into the next one, a single
 * unordered insert (each new `_id` is taken or refused on its own), and claims given back while
 * a delete runs into the next bulk delete. So a batch costs a few claim writes instead of two
 * per record; with one writer on FerretDB v1, that is time (issue 14).
 */
export class ClaimGroup {
  readonly take: (claim: ClaimDoc) => Promise<boolean>;
  readonly giveBack: (claim: ClaimDoc) => Promise<void>;

  constructor(s: ClaimStore) {
    this.take = grouped(async (claims) => {
      try {
        await s.models.claims.insertMany(claims, { ordered: false });
        return claims.map(() => true);
      } catch (error) {
        const refused = duplicatesOf(error);
        if (!refused) throw error;
        return claims.map((_, i) => !refused.has(i));
      }
    });
    this.giveBack = grouped(async (claims) => {
      await s.models.claims.bulkWrite(
        claims.map((c) => ({ deleteOne: { filter: { _id: c._id, createdAt: c.createdAt } } })),
      );
      return claims.map(() => undefined);
    });
  }
}

/**
 * The indexes an unordered insert refused, when each refusal was a duplicate `_id` (the others
 * were stored); undefined for any other error (what was stored is then unknown).
 */
function duplicatesOf(error: unknown): Set<number> | undefined {
  const e = error as { writeErrors?: WriteError[] | WriteError };
  type WriteError = { index?: number; code?: number; err?: { index?: number; code?: number } };
  const errors =
    e.writeErrors === undefined
      ? []
      : Array.isArray(e.writeErrors)
        ? e.writeErrors
        : [e.writeErrors];
  const indexes = errors.map((w) =>
    (w.code ?? w.err?.code) === 11000 ? (w.index ?? w.err?.index) : undefined,
  );
  if (errors.length === 0 || indexes.some((i) => i === undefined)) return undefined;
  return new Set(indexes as number[]);
}

/**
 * Group commit of one kind of write: inputs that arrive while `run` is in flight go together
 * into the next call; `run` answers one output per input, in order. A call that fails fails
 * the inputs waiting for the next one too.
 */
function grouped<I, O>(run: (inputs: I[]) => Promise<O[]>): (input: I) => Promise<O> {
  let queue: { input: I; resolve: (o: O) => void; reject: (e: unknown) => void }[] = [];
  let running = false;
  const drain = async () => {
    running = true;
    while (queue.length > 0) {
      const batch = queue;
      queue = [];
      try {
        const outputs = await run(batch.map((w) => w.input));
        batch.forEach((w, i) => w.resolve(outputs[i] as O));
      } catch (error) {
        // Those that arrived while it failed fail with it, without waiting for a second timeout
        // (as the chain appends do, lib/store.ts).
        for (const w of [...batch, ...queue.splice(0)]) w.reject(error);
      }
    }
    running = false;
  };
  return (input) =>
    new Promise<O>((resolve, reject) => {
      queue.push({ input, resolve, reject });
      if (!running) void drain();
    });
}

async function tryClaim(s: ClaimStore, claim: ClaimDoc): Promise<boolean> {
  try {
    await s.models.claims.create(claim);
    return true;
  } catch (error) {
    if (isDuplicateKey(error)) return false;
    throw error;
  }
}

async function clearStaleClaim(
  s: ClaimStore,
  id: string,
  stillUnchanged: () => Promise<boolean>,
): Promise<boolean> {
  const held = await s.models.claims.findById(id).lean();
  if (!held) return true;
  if (Date.now() - held.createdAt.getTime() < STALE_CLAIM_MS || !(await stillUnchanged()))
    return false;
  const removed = await s.models.claims.deleteOne({ _id: id, createdAt: held.createdAt });
  return removed.deletedCount === 1;
}
