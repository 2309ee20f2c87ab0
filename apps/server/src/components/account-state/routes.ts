import type { Handlers } from '../../lib/routing';
import type { Services } from '../../services';
import { getAccountState, putAccountState } from './use-cases';

export function accountStateHandlers(
  s: Services,
): Pick<Handlers<unknown>, 'getAccountState' | 'putAccountState'> {
  return {
    getAccountState: ({ auth }) => getAccountState(s, auth.userId),
    putAccountState: ({ auth, query, body }) => putAccountState(s, auth.userId, query, body),
  };
}
