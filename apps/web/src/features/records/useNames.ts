import { useQueries } from '@tanstack/react-query';
import { KeyNotProvenError } from '../../app/transparency';
import { useWorkspace } from '../../app/workspace';

function usePeople(ids: string[]) {
  const { deps } = useWorkspace();
  const unique = [...new Set(ids)];
  const results = useQueries({
    queries: unique.map((id) => ({
      queryKey: ['person', id],
      queryFn: () => deps.keyBook.get(id),
      staleTime: Infinity,
    })),
  });
  return { unique, results };
}

/** Names of users by id, from the key book (cached for the tab). */
export function useNames(ids: string[]): Map<string, string> {
  const { unique, results } = usePeople(ids);
  const names = new Map<string, string>();
  results.forEach((r, i) => {
    const id = unique[i];
    if (id && r.data) names.set(id, r.data.name);
  });
  return names;
}

/** The people among `ids` whose key the transparency log did not prove, each with why (DESIGN §14). */
export function useKeyRefusals(ids: string[]): KeyNotProvenError[] {
  return usePeople(ids).results.flatMap((r) =>
    r.error instanceof KeyNotProvenError ? [r.error] : [],
  );
}
