import { useCallback, useEffect, useMemo, useState } from 'react';
import { useQueryClient } from '@tanstack/react-query';
import type { RecordDto } from '@medseal/contract';
import type { LiveFeed } from '../../api/live';

/** The shortest time between two refetches of the lists that pushed changes cause. */
const REFRESH_GAP_MS = 1000;

export interface LiveRecords {
  /** Records that arrived while this tab was open and were not opened yet. */
  fresh: ReadonlySet<string>;
  seen(recordId: string): void;
}

/**
 * Keeps the open tab's lists current: when the server says records I can read changed, the
 * lists and the access log are fetched again (the records themselves as usual, through the
 * checks), and records the list did not have yet are marked new until opened. An open record
 * is not refreshed under the reader's eyes (nor under an edit based on its version).
 */
export function useLiveRecords(live: LiveFeed): LiveRecords {
  const queryClient = useQueryClient();
  const [fresh, setFresh] = useState<ReadonlySet<string>>(new Set());
  useEffect(() => {
    // At most one refetch per REFRESH_GAP_MS: the first change is fetched at once, a burst (a
    // hundred records shared at once push a hundred changes) ends in one more fetch after it.
    let last = 0;
    let timer: ReturnType<typeof setTimeout> | undefined;
    const refresh = () => {
      last = Date.now();
      timer = undefined;
      void queryClient.invalidateQueries({ queryKey: ['records'] });
      void queryClient.invalidateQueries({ queryKey: ['access-log'] });
    };
    const stop = live((recordIds) => {
      const listed = queryClient.getQueryData<{ records: RecordDto[] }>(['records'])?.records;
      if (listed) {
        const known = new Set(listed.map((r) => r.id));
        const added = recordIds.filter((id) => !known.has(id));
        if (added.length > 0) setFresh((before) => new Set([...before, ...added]));
      }
      if (timer) return;
      const wait = last + REFRESH_GAP_MS - Date.now();
      if (wait <= 0) refresh();
      else timer = setTimeout(refresh, wait);
    });
    return () => {
      clearTimeout(timer);
      stop();
    };
  }, [live, queryClient]);
  const seen = useCallback((recordId: string) => {
    setFresh((before) => {
      if (!before.has(recordId)) return before;
      const after = new Set(before);
      after.delete(recordId);
      return after;
    });
  }, []);
  return useMemo(() => ({ fresh, seen }), [fresh, seen]);
}
