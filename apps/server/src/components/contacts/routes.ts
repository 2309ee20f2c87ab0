import type { Handlers } from '../../lib/routing';
import type { Services } from '../../services';
import { deleteContacts, getContacts, putContacts } from './use-cases';

export function contactsHandlers(
  s: Services,
): Pick<Handlers<unknown>, 'getContacts' | 'putContacts' | 'deleteContacts'> {
  return {
    getContacts: ({ auth }) => getContacts(s, auth.userId),
    putContacts: ({ auth, body }) => putContacts(s, auth.userId, body),
    deleteContacts: ({ auth }) => deleteContacts(s, auth.userId),
  };
}
