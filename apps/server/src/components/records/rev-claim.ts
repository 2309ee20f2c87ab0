import { withClaim, type ClaimGroup } from '../../lib/claims';
import type { Services } from '../../services';
import type { RecordDoc } from './model';

/**
 * Every change of a record document (update, grant, revoke) moves `rev` to `rev + 1` with an
 * update filtered on `rev`, under the claim `record:<id>:<rev + 1>` (lib/claims.ts).
 * Returns `undefined` when another change holds it.
 */
export function withRevClaim<T>(
  s: Services,
  record: Pick<RecordDoc, '_id' | 'rev'>,
  write: () => Promise<T>,
  group?: ClaimGroup,
): Promise<T | undefined> {
  const unchanged = async () =>
    (await s.models.records.findById(record._id, { rev: 1 }).lean())?.rev === record.rev;
  return withClaim(s, `record:${record._id}:${record.rev + 1}`, unchanged, write, group);
}
