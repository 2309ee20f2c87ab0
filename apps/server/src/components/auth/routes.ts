import type { Handlers } from '../../lib/routing';
import type { Services } from '../../services';
import { dummyHash } from './passwords';
import * as auth from './use-cases';

type AuthHandlers = Pick<
  Handlers<unknown>,
  | 'authParams'
  | 'register'
  | 'login'
  | 'logout'
  | 'me'
  | 'updateMe'
  | 'listSessions'
  | 'endSession'
  | 'changePassword'
  | 'recoveryStart'
  | 'recoveryComplete'
>;

/** Thin handlers: read the validated input, call the use case. */
export function authHandlers(s: Services): AuthHandlers {
  // Compute the unknown-account dummy hash now, so even the first such login costs the same.
  void dummyHash(s.settings);
  return {
    authParams: ({ query, ip }) => auth.authParams(s, query.email, ip),
    register: ({ body, ip, req, res }) => auth.register(s, body, { ip, req, res }),
    login: ({ body, ip, req, res }) => auth.login(s, body, { ip, req, res }),
    logout: ({ auth: a, res }) => auth.logout(s, a, res),
    me: async ({ auth: a }) => auth.toMe(await auth.currentUser(s, a.userId)),
    updateMe: ({ auth: a, body }) => auth.updateMe(s, a.userId, body),
    listSessions: ({ auth: a }) => auth.listSessions(s, a),
    endSession: ({ auth: a, params }) => auth.endSession(s, a.userId, params.sessionId),
    changePassword: ({ auth: a, body, req }) => auth.changePassword(s, a, body, req),
    recoveryStart: ({ body, ip }) => auth.recoveryStart(s, body.email, ip),
    recoveryComplete: ({ body, ip, req, res }) => auth.recoveryComplete(s, body, { ip, req, res }),
  };
}
