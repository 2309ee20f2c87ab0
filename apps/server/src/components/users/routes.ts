import type { Handlers } from '../../lib/routing';
import type { Services } from '../../services';
import { findUsers, getUser } from './use-cases';

export function userHandlers(s: Services): Pick<Handlers<unknown>, 'findUsers' | 'getUser'> {
  return {
    findUsers: ({ query, auth, ip }) => findUsers(s, { auth, ip }, query),
    getUser: ({ params }) => getUser(s, params.userId),
  };
}
