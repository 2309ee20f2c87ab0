import type { Handlers } from '../../lib/routing';
import type { Services } from '../../services';
import type { RecordAccess } from '../records/access';
import { putAuditCheckpoint, recordAudit } from './use-cases';

export function auditHandlers(
  s: Services,
): Pick<Handlers<RecordAccess>, 'recordAudit' | 'putAuditCheckpoint'> {
  return {
    recordAudit: ({ params }) => recordAudit(s, params.recordId),
    putAuditCheckpoint: async ({ params, auth, body }) => {
      await putAuditCheckpoint(s, {
        recordId: params.recordId,
        ownerId: auth.userId,
        signedCheckpoint: body.signedCheckpoint,
      });
    },
  };
}
