import { useQuery } from '@tanstack/react-query';
import { endpoints, type DirectoryUser, type RecordDto } from '@medseal/contract';
import type { Call } from '../../api/http';
import { useServices } from '../../app/services';

/** Every record I can see (owned, written, shared with me), newest first, all pages. */
export async function fetchAllRecords(call: Call): Promise<RecordDto[]> {
  const all: RecordDto[] = [];
  let before: string | undefined;
  for (;;) {
    const page = await call(endpoints.listRecords, { query: { limit: 100, ...(before ? { before } : {}) } });
    all.push(...page.records);
    if (!page.nextCursor) return all;
    before = page.nextCursor;
  }
}

export function useRecords() {
  const { call } = useServices();
  return useQuery({ queryKey: ['records'], queryFn: () => fetchAllRecords(call) });
}

/** Directory entries by id, cached for the tab (names for authors/owners). */
export function useUser(userId: string | undefined) {
  const { call } = useServices();
  return useQuery({
    queryKey: ['user', userId],
    queryFn: (): Promise<DirectoryUser> => call(endpoints.getUser, { params: { userId: userId ?? '' } }),
    enabled: !!userId,
    staleTime: 5 * 60_000,
  });
}
