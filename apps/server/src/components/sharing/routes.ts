import type { Handlers } from '../../lib/routing';
import type { Services } from '../../services';
import { requireRecord, type RecordAccess } from '../records/access';
import {
  grantAccess,
  grantAccessBatch,
  grantTeamAccess,
  listAccess,
  revokeAccess,
  revokeTeamAccess,
} from './use-cases';

export function sharingHandlers(
  s: Services,
): Pick<
  Handlers<RecordAccess>,
  | 'grantAccess'
  | 'grantAccessBatch'
  | 'revokeAccess'
  | 'listAccess'
  | 'grantTeamAccess'
  | 'revokeTeamAccess'
> {
  return {
    grantAccess: ({ auth, access, body }) =>
      grantAccess(s, requireRecord(access), auth.userId, body),
    // Each grant is authorized on its own record inside (the route itself needs a session).
    grantAccessBatch: ({ auth, body }) => grantAccessBatch(s, auth, body),
    revokeAccess: ({ auth, access, params }) =>
      revokeAccess(s, requireRecord(access), auth.userId, params.userId),
    listAccess: ({ access }) => listAccess(s, requireRecord(access)),
    grantTeamAccess: ({ auth, access, body }) =>
      grantTeamAccess(s, requireRecord(access), auth.userId, body),
    revokeTeamAccess: ({ auth, access, params }) =>
      revokeTeamAccess(s, requireRecord(access), auth.userId, params.teamId),
  };
}
