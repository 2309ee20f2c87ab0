import type { Handlers } from '../../lib/routing';
import type { Services } from '../../services';
import {
  consistencyProof,
  history,
  latestHead,
  leafHashes,
  memberships,
  teamHistory,
  userBinding,
} from './use-cases';

export function transparencyHandlers(
  s: Services,
): Pick<
  Handlers<unknown>,
  | 'ktHead'
  | 'ktConsistency'
  | 'ktLeaves'
  | 'ktUserBinding'
  | 'ktHistory'
  | 'ktMemberships'
  | 'ktTeamHistory'
> {
  return {
    ktHead: () => latestHead(s),
    ktConsistency: ({ query }) => consistencyProof(s, query.from, query.to),
    ktLeaves: ({ query }) => leafHashes(s, query.from, query.to),
    ktUserBinding: ({ params, query }) => userBinding(s, params.userId, query.size),
    ktHistory: ({ auth, query }) => history(s, auth.userId, query.size),
    ktMemberships: ({ auth, query }) => memberships(s, auth.userId, query.size),
    ktTeamHistory: ({ params, query }) => teamHistory(s, params.teamId, query.size),
  };
}
