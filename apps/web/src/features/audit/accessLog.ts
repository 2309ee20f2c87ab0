import {
  endpoints,
  type AuditAction,
  type AuditTrailResponse,
  type RecordDto,
} from '@medseal/contract';
import type { AuditMark, AuditTrailResult } from '@medseal/crypto';
import { isApiError } from '../../api/errors';
import { openRecordDto, type RecordDeps } from '../records/recordService';

export interface AccessLogRow {
  key: string;
  at: string;
  actorId: string;
  /** The name shown; which rows are mine is decided by `actorId`, never by this name. */
  actor: string;
  action: AuditAction;
  record: string;
}

/**
 * Why a trail is not shown: its own check failed; (`withheld`) the server no longer lists a
 * record whose trail I saw, and my signed account state does not say I deleted it; or
 * (`trail-removed`) I deleted it and the server no longer gives its trail.
 */
export type TrailProblem =
  | Exclude<AuditTrailResult, { status: 'intact' }>
  | { status: 'withheld' }
  | { status: 'trail-removed' };

/** A record whose trail failed the owner's own check: none of its entries are shown. */
export interface FailedTrail {
  record: string;
  problem: TrailProblem;
}

/** One plain sentence per status of the trail check (STYLE.md §20). */
export function explainTrailProblem(p: TrailProblem): string {
  switch (p.status) {
    case 'broken':
      return `entry ${p.seq} or one before it was changed, removed or reordered on the server`;
    case 'shortened':
      return `the server shows ${p.length} entries, but you already saw ${p.checkpointLength}: entries were removed`;
    case 'diverged':
      return `entry ${p.seq} is not the one you already saw: the trail was rewritten on the server`;
    case 'bad-checkpoint':
      return 'the check you signed of this trail earlier is not signed by your key: it was replaced on the server';
    case 'withheld':
      return 'the server no longer lists this record, though you did not delete it: it is being withheld from you';
    case 'trail-removed':
      return 'you deleted this record, and the server no longer gives its access trail: the trail was removed';
  }
}

/**
 * Who the log names: me as "You", a person I pinned by the name I accepted, anyone else by the
 * directory's name. Which rows are mine is decided by user id, never by this name.
 */
async function logNameOf(deps: RecordDeps, userId: string): Promise<string> {
  if (userId === deps.me.id) return 'You';
  return (
    deps.accountState.nameOf(userId, undefined) ??
    (await deps.keyBook.get(userId).catch(() => null))?.name ??
    'Unknown user'
  );
}

/**
 * The access log of my records (DESIGN §12 "Audit"): each trail is recomputed in the worker and
 * must extend the last checkpoint I signed, as the server stores it and as my signed account
 * state remembers it (so withholding or rolling back the stored one gains the server nothing;
 * the server's own verdict is not read). A trail that passes and grew since gets a new signed
 * checkpoint and a new mark in my account state, both stored before this resolves, so another
 * device (or this one later) sees any entry removed from it. The trails I saw before of records
 * the server no longer lists are read too: the trail of a record my signed account state says I
 * deleted is shown (a delete event in the trail is only the server's word), any other is
 * `withheld`.
 */
export async function loadAccessLog(
  deps: RecordDeps,
  records: readonly RecordDto[],
): Promise<{ rows: AccessLogRow[]; failed: FailedTrail[] }> {
  const rows: AccessLogRow[] = [];
  const failed: FailedTrail[] = [];
  const marks = new Map<string, AuditMark>();
  const add = async (recordId: string, title: string, trail: AuditTrailResponse) => {
    const seen = deps.accountState.auditMark(recordId);
    const check = await deps.crypto.checkAuditTrail({
      recordId,
      events: trail.events,
      signedCheckpoint: trail.checkpoint,
      keyHandle: deps.key.handle,
      ...(seen ? { seen } : {}),
    });
    if (check.status !== 'intact') {
      failed.push({ record: title, problem: check });
      return;
    }
    if (check.length > (check.checkpoint?.length ?? 0))
      await storeCheckpoint(deps, recordId, check);
    if (check.length > (seen?.length ?? 0)) marks.set(recordId, check.mark);
    for (const e of trail.events) {
      rows.push({
        key: `${e.recordId}-${e.seq}`,
        at: e.at,
        actorId: e.actorId,
        actor: await logNameOf(deps, e.actorId),
        action: e.action,
        record: title,
      });
    }
  };
  for (const r of records) {
    const [trail, opened] = await Promise.all([
      deps.call(endpoints.recordAudit, { params: { recordId: r.id } }),
      openRecordDto(deps, r),
    ]);
    await add(
      r.id,
      opened.status === 'verified' ? opened.content.title : 'Record that failed verification',
      trail,
    );
  }
  const listed = new Set(records.map((r) => r.id));
  const unlistedIds = () => deps.accountState.auditMarkIds().filter((id) => !listed.has(id));
  // Another of my devices may have deleted one since this one loaded my state: read it again
  // before calling anything withheld.
  if (unlistedIds().some((id) => !deps.accountState.hasDeleted(id)))
    await deps.accountState.refresh();
  const unlisted = unlistedIds();
  const trails = await Promise.all(
    unlisted.map((recordId) =>
      deps.call(endpoints.recordAudit, { params: { recordId } }).catch((error: unknown) => {
        if (isApiError(error, 'record-not-found')) return null;
        throw error;
      }),
    ),
  );
  for (const [i, recordId] of unlisted.entries()) {
    const trail = trails[i];
    const name = `Record ${recordId.slice(0, 6)}`;
    if (!deps.accountState.hasDeleted(recordId))
      failed.push({ record: name, problem: { status: 'withheld' } });
    else if (!trail) failed.push({ record: name, problem: { status: 'trail-removed' } });
    else await add(recordId, `Deleted record ${recordId.slice(0, 6)}`, trail);
  }
  await deps.accountState.keepAuditMarks(marks);
  rows.sort((a, b) => b.at.localeCompare(a.at));
  return { rows, failed };
}

/** The rows of other people's activity: mine are told by user id, whatever name a row shows. */
export function othersActivity(rows: readonly AccessLogRow[], myId: string): AccessLogRow[] {
  return rows.filter((r) => r.actorId !== myId);
}

async function storeCheckpoint(
  deps: RecordDeps,
  recordId: string,
  trail: { length: number; head: string },
): Promise<void> {
  const signedCheckpoint = await deps.crypto.signAuditCheckpoint({
    checkpoint: { recordId, length: trail.length, head: trail.head },
    keyHandle: deps.key.handle,
  });
  try {
    await deps.call(endpoints.putAuditCheckpoint, {
      params: { recordId },
      body: { signedCheckpoint },
    });
  } catch (error) {
    // Another of my devices stored a longer one meanwhile: the next visit checks against it.
    if (!isApiError(error, 'checkpoint-older')) throw error;
  }
}
