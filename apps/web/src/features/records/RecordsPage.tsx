import { useEffect, useMemo, useRef, useState } from 'react';
import { useQueryClient } from '@tanstack/react-query';
import { Link } from 'react-router';
import { describeError } from '../../api/errors';
import { PageHead } from '../../app/PageHead';
import { useWorkspace } from '../../app/workspace';
import { Banner, Button, uiStyles } from '../../ui';
import { FirstSteps, ShareTip } from '../onboarding/FirstSteps';
import styles from './records.module.css';
import { useRecords, useTeamRecords, withTeamRecords } from './queries';
import { SharePanel } from '../sharing/SharePanel';
import { RecordList, summaryJobOf, type RecordRow, type RecordSelection } from './RecordList';
import { authorFlagsOf } from './authorFlags';
import { may } from './actions';
import { useNames } from './useNames';

/** Records I can read: owned, written, or shared with me (optionally one patient's only). */
export function RecordsPage({ ownerId, title = 'Records' }: { ownerId?: string; title?: string }) {
  const { deps, loader, live, search } = useWorkspace();
  const records = useRecords();
  // A patient's page also lists what she shared with my care teams.
  const viaTeams = useTeamRecords({ enabled: !!ownerId });
  const all = useMemo(
    () =>
      ownerId ? withTeamRecords(records.data ?? [], viaTeams.data ?? []) : (records.data ?? []),
    [records.data, viaTeams.data, ownerId],
  );
  const visible = useMemo(
    () => all.filter((r) => !ownerId || r.ownerId === ownerId),
    [all, ownerId],
  );
  const names = useNames(visible.flatMap((r) => [r.authorId, r.ownerId]));
  const rows: RecordRow[] = useMemo(
    () =>
      visible.map((r) => ({
        ...summaryJobOf(r),
        isNew: live.fresh.has(r.id) && r.authorId !== deps.me.id,
        author: r.authorId === deps.me.id ? 'you' : (names.get(r.authorId) ?? '…'),
        ...(deps.me.role === 'doctor' && r.ownerId !== deps.me.id
          ? { owner: names.get(r.ownerId) ?? '…' }
          : {}),
      })),
    [visible, names, deps.me, live.fresh],
  );
  const selection = useSelection(rows);
  const landing = useRef<HTMLParagraphElement>(null);
  useEffect(() => {
    if (selection.note) landing.current?.focus();
  }, [selection.note]);
  const newHref = ownerId ? `/records/new?owner=${encodeURIComponent(ownerId)}` : '/records/new';
  const canWrite = deps.me.role === 'patient' || !!ownerId;
  return (
    <>
      <PageHead
        title={title}
        actions={
          canWrite ? (
            <Link className={uiStyles.button} to={newHref}>
              New record
            </Link>
          ) : null
        }
      />
      {records.isPending ? <p aria-busy="true">Loading records…</p> : null}
      {records.isError ? <Banner tone="bad">{describeError(records.error)}</Banner> : null}
      {records.loadMoreError ? (
        <Banner tone="bad" title="Some records could not be loaded.">
          {describeError(records.loadMoreError)}{' '}
          <Button variant="link" onClick={records.retryLoadMore}>
            Try again
          </Button>
        </Banner>
      ) : null}
      {/* Not from a cached list this page is fetching again: one from before a record was added would say "no records yet" for a moment. */}
      {records.isSuccess &&
      !(records.isFetching && !records.isFetchedAfterMount) &&
      records.complete &&
      visible.length === 0 ? (
        ownerId ? (
          <Banner tone="info">You cannot read any record of this patient now.</Banner>
        ) : (
          <FirstSteps me={deps.me} />
        )
      ) : null}
      {deps.me.role === 'patient' &&
      records.complete &&
      visible.length > 0 &&
      visible.every((r) => r.recipients.every((x) => x.userId === deps.me.id)) ? (
        <ShareTip />
      ) : null}
      {visible.length > 0 ? (
        <RecordList
          rows={rows}
          loader={loader}
          search={search.search}
          loadingMore={!records.complete}
          hrefFor={(id) => `/records/${id}`}
          selection={selection.list}
          authorFlags={(row, state) =>
            authorFlagsOf(deps.me, deps.accountState, row.ownerId, state)
          }
        />
      ) : null}
      {selection.ids.length > 0 ? (
        <div className={styles.selectionBar} role="region" aria-label="Selected records">
          <span>
            {selection.ids.length === 1
              ? '1 record selected'
              : `${selection.ids.length} records selected`}
          </span>
          <Button onClick={() => selection.setSharing(true)}>
            Share {selection.ids.length === 1 ? 'it' : `these ${selection.ids.length}`}…
          </Button>
          <Button variant="link" onClick={selection.clear}>
            Clear selection
          </Button>
        </div>
      ) : null}
      {/* Where focus lands when the selection bar (and the button that had it) goes away. */}
      <p ref={landing} tabIndex={-1} role="status">
        {selection.note?.text ?? ''}
      </p>
      <SharePanel
        open={selection.sharing}
        target={{ recordIds: selection.ids, titleOf: selection.titleOf }}
        onShared={selection.shared}
        onClose={() => selection.setSharing(false)}
      />
    </>
  );
}

/**
 * Records chosen in the list to share together (issue 14: "everything about my knee"): only
 * verified records the user may share can be chosen; the ids stay in list order.
 */
function useSelection(rows: RecordRow[]) {
  const { loader } = useWorkspace();
  const queryClient = useQueryClient();
  const [selected, setSelected] = useState<ReadonlySet<string>>(new Set());
  const [sharing, setSharing] = useState(false);
  // Clearing the selection or finishing a share removes the bar: the page moves focus to a status line.
  const [note, setNote] = useState<{ text: string } | null>(null);
  const list: RecordSelection = useMemo(
    () => ({
      selected,
      // The list checks no consents: an author's records are shared from their own page.
      selectable: (row, state) => state.status === 'verified' && may(state.role, 'share', false),
      set: (ids, on) =>
        setSelected((old) => {
          const next = new Set(old);
          for (const id of ids)
            if (on) next.add(id);
            else next.delete(id);
          return next;
        }),
    }),
    [selected],
  );
  const ids = useMemo(
    () => rows.filter((r) => selected.has(r.id)).map((r) => r.id),
    [rows, selected],
  );
  const titleOf = (id: string) => {
    const row = rows.find((r) => r.id === id);
    const state = row ? loader.get(row) : undefined;
    return state?.status === 'verified' ? state.summary.title : undefined;
  };
  return {
    list,
    ids,
    sharing,
    setSharing,
    titleOf,
    note,
    clear: () => {
      setSelected(new Set());
      setNote({ text: 'Nothing is selected.' });
    },
    shared: () => {
      setSharing(false);
      setSelected(new Set());
      setNote({ text: 'Sharing is done. Nothing is selected.' });
      void queryClient.invalidateQueries({ queryKey: ['records'] });
    },
  };
}
