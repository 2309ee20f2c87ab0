import type { KeyRef } from '../../crypto/client';
import { loadTeam, unwrapMyTeamKey, type TeamDeps, type VerifiedTeam } from './teamService';

/**
 * Teams and my team keys for the tab (like the KeyBook for people): each team's log is replayed
 * once per tab until something changes it (`refresh`), and each generation of a team key I hold
 * is unwrapped once into the worker. Failures are not kept, so the next use asks again.
 */
export class TeamBook {
  private readonly teams = new Map<string, Promise<VerifiedTeam>>();
  private readonly keys = new Map<string, Promise<KeyRef>>();

  constructor(private readonly deps: TeamDeps) {}

  team(teamId: string): Promise<VerifiedTeam> {
    return this.cached(this.teams, teamId, () => loadTeam(this.deps, teamId));
  }

  /** My copy of generation `gen` of the team's key (a worker handle). */
  keyFor(teamId: string, gen: number): Promise<KeyRef> {
    return this.cached(this.keys, `${teamId}:${gen}`, async () => {
      const team = await this.team(teamId);
      const key = team.state.keys.find((k) => k.gen === gen);
      if (!key) throw new Error('This team has no such key.');
      return unwrapMyTeamKey(this.deps, team, key);
    });
  }

  /** Forget a team after it changed (a member added or removed, a new key). */
  refresh(teamId: string): void {
    this.teams.delete(teamId);
  }

  private cached<T>(map: Map<string, Promise<T>>, id: string, load: () => Promise<T>): Promise<T> {
    let entry = map.get(id);
    if (!entry) {
      entry = load();
      entry.catch(() => map.delete(id));
      map.set(id, entry);
    }
    return entry;
  }
}
