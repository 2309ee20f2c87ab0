import { useQueries } from '@tanstack/react-query';
import { useWorkspace } from '../../app/workspace';

/** Names of users by id, from the key book (cached for the tab). */
export function useNames(ids: string[]): Map<string, string> {
  const { deps } = useWorkspace();
  const unique = [...new Set(ids)];
  const results = useQueries({
    queries: unique.map((id) => ({ queryKey: ['person', id], queryFn: () => deps.keyBook.get(id), staleTime: Infinity })),
  });
  const names = new Map<string, string>();
  results.forEach((r, i) => {
    const id = unique[i];
    if (id && r.data) names.set(id, r.data.name);
  });
  return names;
}
