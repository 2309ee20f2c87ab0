import type { Handlers } from '../../lib/routing';
import type { Services } from '../../services';
import { getContacts, putContacts } from './use-cases';

export function contactsHandlers(s: Services): Pick<Handlers<unknown>, 'getContacts' | 'putContacts'> {
  return {
    getContacts: ({ auth }) => getContacts(s, auth.userId),
    putContacts: ({ auth, body }) => putContacts(s, auth.userId, body),
  };
}
