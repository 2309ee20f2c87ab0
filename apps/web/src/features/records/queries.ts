import { useEffect, useState } from 'react';
import { useQuery, useQueryClient } from '@tanstack/react-query';
import { endpoints, type DirectoryUser, type RecordDto } from '@medseal/contract';
import type { Call } from '../../api/http';
import { useServices } from '../../app/services';

/** A small first page so the first screen appears fast; the rest streams in behind it. */
const FIRST_PAGE = 20;
// The largest page the API gives: each page costs the server a scan on FerretDB (README).
const NEXT_PAGES = 250;

/** Every record I can see (owned, written, shared with me), newest first, all pages. */
export async function fetchAllRecords(call: Call): Promise<RecordDto[]> {
  const all: RecordDto[] = [];
  let before: string | undefined;
  for (;;) {
    const page = await call(endpoints.listRecords, {
      query: { limit: NEXT_PAGES, ...(before ? { before } : {}) },
    });
    all.push(...page.records);
    if (!page.nextCursor) return all;
    before = page.nextCursor;
  }
}

/** Every record shared with one team I am a current member of, all pages. */
export async function fetchRecordsOfTeam(call: Call, teamId: string): Promise<RecordDto[]> {
  const all: RecordDto[] = [];
  let before: string | undefined;
  for (;;) {
    const page = await call(endpoints.teamRecords, {
      params: { teamId },
      query: { limit: NEXT_PAGES, ...(before ? { before } : {}) },
    });
    all.push(...page.records);
    if (!page.nextCursor) return all;
    before = page.nextCursor;
  }
}

/** Every record shared with the care teams I am a current member of, all pages, each once. */
export async function fetchTeamRecords(call: Call): Promise<RecordDto[]> {
  const { teams } = await call(endpoints.listMyTeams, {});
  const byId = new Map<string, RecordDto>();
  for (const team of teams)
    for (const r of await fetchRecordsOfTeam(call, team.id)) byId.set(r.id, r);
  return [...byId.values()];
}

/** Records I read in my own right, then those I read through a team (each once). */
export function withTeamRecords(
  mine: readonly RecordDto[],
  viaTeams: readonly RecordDto[],
): RecordDto[] {
  const ids = new Set(mine.map((r) => r.id));
  return [...mine, ...viaTeams.filter((r) => !ids.has(r.id))];
}

/** Doctors: the records shared with my care teams (patients are in none). */
export function useTeamRecords({ enabled = true }: { enabled?: boolean } = {}) {
  const { call } = useServices();
  return useQuery({ queryKey: ['team-records'], enabled, queryFn: () => fetchTeamRecords(call) });
}

interface RecordPages {
  records: RecordDto[];
  nextCursor: string | undefined;
}

/**
 * My records, loaded progressively: the first small page renders (and starts decrypting) at
 * once, later pages are appended as they arrive. `complete` says whether all pages are in.
 * `enabled: false` asks for nothing (a page that needs the list only sometimes).
 */
export function useRecords({ enabled = true }: { enabled?: boolean } = {}) {
  const { call } = useServices();
  const queryClient = useQueryClient();
  const query = useQuery({
    queryKey: ['records'],
    enabled,
    queryFn: async (): Promise<RecordPages> => {
      const page = await call(endpoints.listRecords, { query: { limit: FIRST_PAGE } });
      return { records: page.records, nextCursor: page.nextCursor };
    },
  });
  const cursor = query.data?.nextCursor;
  const [moreError, setMoreError] = useState<{ cursor: string; error: unknown } | null>(null);
  const [attempt, setAttempt] = useState(0);
  useEffect(() => {
    if (!cursor) return;
    let live = true;
    call(endpoints.listRecords, { query: { limit: NEXT_PAGES, before: cursor } }).then(
      (page) => {
        if (!live) return;
        // A record the first page was read again with (it changed meanwhile: a re-key, an edit)
        // can also be on a later page read before that change: keep the newer, listed once.
        queryClient.setQueryData<RecordPages>(['records'], (old) => {
          if (old?.nextCursor !== cursor) return old;
          const listed = new Set(old.records.map((r) => r.id));
          return {
            records: [...old.records, ...page.records.filter((r) => !listed.has(r.id))],
            nextCursor: page.nextCursor,
          };
        });
      },
      (error: unknown) => {
        if (live) setMoreError({ cursor, error });
      },
    );
    return () => {
      live = false;
    };
  }, [cursor, call, queryClient, attempt]);
  const loadMoreError = moreError && moreError.cursor === cursor ? moreError.error : null;
  return {
    ...query,
    data: query.data?.records,
    complete: !!query.data && !cursor,
    loadMoreError,
    retryLoadMore: () => {
      setMoreError(null);
      setAttempt((a) => a + 1);
    },
  };
}

/** Directory entries by id, cached for the tab (names for authors/owners). */
export function useUser(userId: string | undefined) {
  const { call } = useServices();
  return useQuery({
    queryKey: ['user', userId],
    queryFn: (): Promise<DirectoryUser> =>
      call(endpoints.getUser, { params: { userId: userId ?? '' } }),
    enabled: !!userId,
    staleTime: 5 * 60_000,
  });
}
