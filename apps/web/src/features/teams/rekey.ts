import type { RecordDto } from '@medseal/contract';
import { isApiError } from '../../api/errors';
import { fetchRecordsOfTeam } from '../records/queries';
import { openRecordDto, rekeyForTeam, type RecordDeps } from '../records/recordService';
import { currentKeyOf, type VerifiedTeam } from './teamService';

/**
 * Re-keying after a team change (DESIGN §13, docs/care-teams.md): the current version of every
 * record shared with the team whose stored message is for an older team key gets a new version
 * to the current key. Progress is derived from the data, never stored beside it: after a reload
 * (or on another admin's device) the same question gives what is left. Until a record is
 * re-keyed, the remaining members read it with the older key they hold.
 */
export interface RekeyProgress {
  /** Records shared with the team. */
  total: number;
  /** Of them, under the team's current key. */
  done: number;
  /** Records that could not be re-keyed in this run (did not verify, or changed meanwhile). */
  skipped: number;
}

/** The team's records, and those whose current version is for an older key than the current one. */
export async function rekeyStatus(deps: Pick<RecordDeps, 'call'>, team: VerifiedTeam): Promise<{ all: RecordDto[]; stale: RecordDto[] }> {
  const all = await fetchRecordsOfTeam(deps.call, team.state.teamId);
  const gen = currentKeyOf(team.state).gen;
  const stale = all.filter((r) => r.teams.some((t) => t.teamId === team.state.teamId && t.gen < gen));
  return { all, stale };
}

/** Parallel re-keys: the worker does the crypto; a few in flight keep it and the network busy. */
const IN_FLIGHT = 3;

/**
 * Re-keys every stale record of the team, a few at a time, reporting after each. A record that
 * does not verify is never re-written (it is reported, not "fixed"); one that changed meanwhile
 * (409) is left for the next run, which a newer version by a member usually makes unnecessary.
 */
export async function rekeyTeam(deps: RecordDeps, team: VerifiedTeam, onProgress: (p: RekeyProgress) => void, shouldStop: () => boolean = () => false): Promise<RekeyProgress> {
  // The team changed: read its new history before opening records with its keys.
  deps.teams.refresh(team.state.teamId);
  const { all, stale } = await rekeyStatus(deps, team);
  const progress: RekeyProgress = { total: all.length, done: all.length - stale.length, skipped: 0 };
  onProgress({ ...progress });
  const queue = [...stale];
  const worker = async () => {
    for (let dto = queue.shift(); dto && !shouldStop(); dto = queue.shift()) {
      try {
        const opened = await openRecordDto(deps, dto);
        if (opened.status !== 'verified') {
          progress.skipped += 1;
          continue;
        }
        await rekeyForTeam(deps, opened, team, () => undefined);
        progress.done += 1;
      } catch (error) {
        if (!isApiError(error, 'version-conflict')) throw error;
        progress.skipped += 1;
      } finally {
        onProgress({ ...progress });
      }
    }
  };
  await Promise.all(Array.from({ length: IN_FLIGHT }, worker));
  return progress;
}
