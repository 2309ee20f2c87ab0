import type { Handlers } from '../../lib/routing';
import type { Services } from '../../services';
import { consistencyProof, history, latestHead, userBinding } from './use-cases';

export function transparencyHandlers(
  s: Services,
): Pick<Handlers<unknown>, 'ktHead' | 'ktConsistency' | 'ktUserBinding' | 'ktHistory'> {
  return {
    ktHead: () => latestHead(s),
    ktConsistency: ({ query }) => consistencyProof(s, query.from, query.to),
    ktUserBinding: ({ params, query }) => userBinding(s, params.userId, query.size),
    ktHistory: ({ auth, query }) => history(s, auth.userId, query.size),
  };
}
