import type { Handlers } from '../../lib/routing';
import type { Services } from '../../services';
import { getConsent, listConsents, putConsent, putTeamConsent } from './use-cases';

export function consentHandlers(
  s: Services,
): Pick<Handlers<unknown>, 'putConsent' | 'putTeamConsent' | 'listConsents' | 'getConsent'> {
  return {
    putConsent: ({ auth, params, body }) => putConsent(s, auth.userId, params, body),
    putTeamConsent: ({ auth, params, body }) => putTeamConsent(s, auth.userId, params, body),
    listConsents: ({ auth, params }) => listConsents(s, auth.userId, params.patientId),
    getConsent: ({ auth, params }) => getConsent(s, auth.userId, params),
  };
}
