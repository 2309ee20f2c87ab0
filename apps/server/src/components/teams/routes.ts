import type { Handlers } from '../../lib/routing';
import type { Services } from '../../services';
import { addPracticeAdmin, createPractice, listPractices, removePracticeAdmin } from './practices';
import * as teams from './use-cases';

type TeamHandlers = Pick<
  Handlers<unknown>,
  | 'createPractice'
  | 'listPractices'
  | 'addPracticeAdmin'
  | 'removePracticeAdmin'
  | 'createTeam'
  | 'listMyTeams'
  | 'findTeams'
  | 'getTeam'
  | 'teamStatements'
  | 'appendTeamStatement'
  | 'getTeamKeyEnvelope'
>;

/** Team routes are `session` in the access table; who may do what is checked in the use cases. */
export function teamHandlers(s: Services): TeamHandlers {
  return {
    createPractice: ({ auth, body }) => createPractice(s, auth.userId, body),
    listPractices: ({ auth }) => listPractices(s, auth.userId),
    addPracticeAdmin: ({ auth, params, body }) =>
      addPracticeAdmin(s, params.practiceId, auth.userId, body.userId),
    removePracticeAdmin: ({ auth, params }) =>
      removePracticeAdmin(s, params.practiceId, auth.userId, params.userId),
    createTeam: ({ auth, params, body }) =>
      teams.createTeam(s, params.practiceId, auth.userId, body),
    listMyTeams: ({ auth }) => teams.listMyTeams(s, auth.userId),
    findTeams: ({ query }) => teams.findTeams(s, query.namePrefix),
    getTeam: ({ params }) => teams.getTeam(s, params.teamId),
    teamStatements: ({ params, query }) => teams.teamStatements(s, params.teamId, query.from),
    appendTeamStatement: ({ auth, params, body }) =>
      teams.appendTeamStatement(s, params.teamId, auth.userId, body),
    getTeamKeyEnvelope: ({ auth, params }) =>
      teams.getKeyEnvelope(s, params.teamId, auth.userId, params.gen),
  };
}
