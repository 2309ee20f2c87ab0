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
  /**
   * Records that could not be re-keyed in this run: did not verify, or changed meanwhile. A
   * patient's consent to the team is not needed: a re-key cannot change what a record says.
   */
  skipped: number;
}

/** The team's records, and those whose current version is for an older key than the current one. */
export interface RekeyListing {
  all: RecordDto[];
  stale: RecordDto[];
}

export async function rekeyStatus(
  deps: Pick<RecordDeps, 'call'>,
  team: VerifiedTeam,
): Promise<RekeyListing> {
  const all = await fetchRecordsOfTeam(deps.call, team.state.teamId);
  const gen = currentKeyOf(team.state).gen;
  const stale = all.filter((r) =>
    r.teams.some((t) => t.teamId === team.state.teamId && t.gen < gen),
  );
  return { all, stale };
}

/** Parallel re-keys: the worker does the crypto; a few in flight keep it and the network busy. */
const IN_FLIGHT = 3;

/**
 * Re-keys every stale record of the team, a few at a time, reporting after each. A record that
 * does not verify is never re-written (it is reported, not "fixed"); one that changed meanwhile
 * (409) is left for the next run, which a newer version by a member usually makes unnecessary;
 * one another admin re-keyed first (409 `already-rekeyed`) is done; one with files whose other
 * team is behind its key too (409 `other-team-behind`) is left (docs/care-teams.md).
 */
export async function rekeyTeam(
  deps: RecordDeps,
  team: VerifiedTeam,
  /** What `rekeyStatus` found for this team state (the page's: listing again cost ~15 s of 1,000 records). */
  listing: RekeyListing,
  onProgress: (p: RekeyProgress) => void,
  shouldStop: () => boolean = () => false,
): Promise<RekeyProgress> {
  // The team changed: read its new history before opening records with its keys.
  deps.teams.refresh(team.state.teamId);
  const { all, stale } = listing;
  const progress: RekeyProgress = {
    total: all.length,
    done: all.length - stale.length,
    skipped: 0,
  };
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
        await rekeyForTeam(deps, opened, team);
        progress.done += 1;
      } catch (error) {
        if (isApiError(error, 'already-rekeyed')) progress.done += 1;
        else if (isApiError(error, 'version-conflict') || isApiError(error, 'other-team-behind'))
          progress.skipped += 1;
        else throw error;
      } finally {
        onProgress({ ...progress });
      }
    }
  };
  await Promise.all(Array.from({ length: IN_FLIGHT }, worker));
  // The versions written are noted as seen; keep them before saying the re-key is done.
  await deps.accountState.flush();
  return progress;
}
