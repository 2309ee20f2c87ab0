import { setTimeout as sleep } from 'node:timers/promises';
import { STALE_CLAIM_MS, withClaim, type ClaimGroup } from '../../lib/claims';
import { DB_TIMEOUTS } from '../../lib/db';
import type { Services } from '../../services';
import type { RecordDoc } from './model';

/** How long a change waits for the change before it to finish under its claim, and how often it looks. */
const PREVIOUS_CHANGE = { waitMs: DB_TIMEOUTS.timeoutMS, everyMs: 5 } as const;

/**
 * Every change of a record document (update, grant, revoke) moves `rev` to `rev + 1` with an
 * update filtered on `rev`, under the claim `record:<id>:<rev + 1>` (lib/claims.ts).
 *
 * The changes of one record run one after the other, each with all it does under its claim:
 * `write` starts only once the claim of the change that made `rev` is given back (or is stale),
 * and only while the record is still at `rev`. What a change writes beside the record under its
 * claim (a share its grant, a revoke deleting the grant it ended) is therefore never undone by
 * the change before it: a revoke's grant delete cannot take the grant of a re-share that came
 * right after it.
 *
 * Returns `undefined` when another change holds the claim, the record moved on, or the change
 * before did not finish within one operation's timeout (the caller re-reads and tries again, or
 * reports a conflict).
 */
export async function withRevClaim<T>(
  s: Services,
  record: Pick<RecordDoc, '_id' | 'rev'>,
  write: () => Promise<T>,
  group?: ClaimGroup,
): Promise<T | undefined> {
  const unchanged = async () =>
    (await s.models.records.findById(record._id, { rev: 1 }).lean())?.rev === record.rev;
  const done = await withClaim(
    s,
    revClaimId(record._id, record.rev + 1),
    unchanged,
    async () =>
      (await previousChangeDone(s, record, unchanged)) ? { written: await write() } : undefined,
    group,
  );
  return done?.written;
}

const revClaimId = (recordId: string, rev: number) => `record:${recordId}:${rev}`;

/** Whether the record is still at `rev` (`unchanged`) once the change that made it gave its claim back. */
async function previousChangeDone(
  s: Services,
  record: Pick<RecordDoc, '_id' | 'rev'>,
  unchanged: () => Promise<boolean>,
): Promise<boolean> {
  const until = Date.now() + PREVIOUS_CHANGE.waitMs;
  for (;;) {
    const [previous, still] = await Promise.all([
      s.models.claims.findById(revClaimId(record._id, record.rev), { createdAt: 1 }).lean(),
      unchanged(),
    ]);
    if (!still) return false;
    if (!previous || Date.now() - previous.createdAt.getTime() >= STALE_CLAIM_MS) return true;
    if (Date.now() >= until) return false;
    await sleep(PREVIOUS_CHANGE.everyMs);
  }
}
