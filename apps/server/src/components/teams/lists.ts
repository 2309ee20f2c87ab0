import type { Connection, Model } from 'mongoose';
import type { Logger } from 'pino';
import { LONG_OPERATION } from '../../lib/db';
import { modelOn } from '../../lib/model';
import { idLinkSchema, IdLists } from '../../lib/store';
import type { PracticeDoc, TeamDoc } from './model';

/**
 * The ways to come to a team or a practice other than its id, as `_id`-addressed lists
 * (lib/store.ts IdLists; DESIGN §9: a query by user id, name or practice read every
 * membership, team or practice on FerretDB v1). Each is appended before the document it leads
 * to is written, and only names what to look at: the statements say who is a member, the team
 * document its name and practice, the practice document its admins.
 *
 * - `team_joins`, key a user id: each team she was made a member of (and may have left since).
 * - `team_names`, key the first 2 to NAME_KEY_CHARS characters of the lower-cased name: each
 *   team so named (a name never changes: no statement renames a team).
 * - `practice_teams`, key a practice id: each team created in it.
 * - `practice_admins`, key a user id: each practice she was made an admin of.
 */
export interface TeamLists {
  joins: IdLists;
  names: IdLists;
  practiceTeams: IdLists;
  practiceAdmins: IdLists;
}

export function teamListModels(c: Connection) {
  return {
    joins: modelOn(c, 'TeamJoin', idLinkSchema, 'team_joins'),
    names: modelOn(c, 'TeamName', idLinkSchema, 'team_names'),
    practiceTeams: modelOn(c, 'PracticeTeam', idLinkSchema, 'practice_teams'),
    practiceAdmins: modelOn(c, 'PracticeAdmin', idLinkSchema, 'practice_admins'),
  };
}

export function createTeamLists(models: ReturnType<typeof teamListModels>): TeamLists {
  return {
    joins: new IdLists(models.joins),
    names: new IdLists(models.names),
    practiceTeams: new IdLists(models.practiceTeams),
    practiceAdmins: new IdLists(models.practiceAdmins),
  };
}

/** The directory searches by a prefix of at least this many characters (the contract's minimum). */
const MIN_PREFIX_CHARS = 2;
/**
 * Longest name prefix listed: a search reads the list of its first this-many characters, so it
 * costs the teams whose names start like the query, not all teams; a team is in this many
 * lists, less one.
 */
const NAME_KEY_CHARS = 4;

/** The lists a team named `nameLower` is in. Characters, not UTF-16 units: no half of a pair. */
export function nameKeys(nameLower: string): string[] {
  const chars = Array.from(nameLower);
  const keys: string[] = [];
  for (let n = MIN_PREFIX_CHARS; n <= Math.min(NAME_KEY_CHARS, chars.length); n += 1)
    keys.push(chars.slice(0, n).join(''));
  return keys;
}

/** The list that holds every team whose lower-cased name starts with `prefixLower`. */
export const nameKeyOf = (prefixLower: string) =>
  Array.from(prefixLower).slice(0, NAME_KEY_CHARS).join('');

/**
 * Lists every team and practice stored before the lists existed (under its name, practice and
 * current members; a practice under its admins). Idempotent: what a list names already is not
 * added to it again. One scan of the teams and one of the practices.
 */
export async function migrateTeamLists(input: {
  teams: Model<TeamDoc>;
  practices: Model<PracticeDoc>;
  lists: TeamLists;
  logger: Logger;
}): Promise<number> {
  const { lists, logger } = input;
  let added = 0;
  const addMissing = async (list: IdLists, keys: string[], id: string) => {
    const missing = (
      await Promise.all(
        keys.map(async (key) => ((await list.idsOf(key)).includes(id) ? [] : [key])),
      )
    ).flat();
    await list.add(missing, id);
    added += missing.length;
  };
  const teams = await input.teams
    .find({}, { nameLower: 1, practiceId: 1, 'state.members': 1 }, LONG_OPERATION)
    .lean();
  for (const team of teams) {
    await addMissing(
      lists.joins,
      team.state.members.map((m) => m.userId),
      team._id,
    );
    await addMissing(lists.names, nameKeys(team.nameLower), team._id);
    await addMissing(lists.practiceTeams, [team.practiceId], team._id);
  }
  const practices = await input.practices.find({}, { adminIds: 1 }, LONG_OPERATION).lean();
  for (const practice of practices)
    await addMissing(lists.practiceAdmins, practice.adminIds, practice._id);
  if (added > 0) logger.info({ added }, 'team lists: teams and practices listed');
  return added;
}
