import { useQuery } from '@tanstack/react-query';
import { useWorkspace } from '../../app/workspace';
import { openRecord } from './recordService';

/** Fetches one record and opens it in the worker (verification included). */
export function useOpenedRecord(recordId: string) {
  const { deps } = useWorkspace();
  return useQuery({
    queryKey: ['record', recordId, deps.stamp],
    queryFn: () => openRecord(deps, recordId),
    staleTime: 0,
    // Decrypted content is not kept once the page is left: coming back asks the server again,
    // so a revoked reader never sees a cached copy.
    gcTime: 0,
    // New pins re-open the record; keep showing the same record meanwhile (and keep dialogs
    // open) — but never another record's content under this id.
    placeholderData: (previous, previousQuery) =>
      previousQuery?.queryKey[1] === recordId ? previous : undefined,
  });
}
