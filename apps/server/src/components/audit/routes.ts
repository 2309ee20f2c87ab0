import type { Handlers } from '../../lib/routing';
import type { Services } from '../../services';
import type { RecordAccess } from '../records/access';
import { recordAudit } from './use-cases';

export function auditHandlers(s: Services): Pick<Handlers<RecordAccess>, 'recordAudit'> {
  return {
    recordAudit: ({ params }) => recordAudit(s, params.recordId),
  };
}
