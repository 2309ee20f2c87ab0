import { useEffect, useMemo, useRef, useState, useSyncExternalStore } from 'react';
import { Link } from 'react-router';
import { useVirtualizer } from '@tanstack/react-virtual';
import { Badge, SelectField, TextField } from '../../ui';
import { KIND_LABELS, RECORD_KINDS, type RecordKind } from './content';
import type { RecordDto } from '@medseal/contract';
import { failureLabel } from './failures';
import type { SummaryJob, SummaryLoader, SummaryState, VerifiedSummary } from './summaryLoader';
import { NO_FLAGS, type AuthorFlags } from './authorFlags';
import styles from './records.module.css';
import { formatDay } from '../../app/dates';

/**
 * A listed record: the summary job (its id, version, and the owner and author the server
 * names) and what the row shows. The names are shown only once the record verified (its
 * signature binds that author and owner); until then they are the server's word.
 */
export interface RecordRow extends SummaryJob {
  /** "you", or the author's name. */
  author: string;
  /** For doctors: whose record it is. */
  owner?: string;
  /** Arrived while this tab was open (pushed by the server) and not opened yet. */
  isNew?: boolean;
  /** What the loader decrypts (absent in tests of the list alone). */
  dto?: RecordDto;
}

/** The summary job of a listed record: what the loader checks, keyed as it caches it. */
export const summaryJobOf = (r: RecordDto) => ({
  id: r.id,
  version: r.version,
  ownerId: r.ownerId,
  authorId: r.authorId,
  dto: r,
});

const ROW_HEIGHT = 64;

/** Choosing records to act on together (share several at once); absent: no checkboxes. */
export interface RecordSelection {
  selected: ReadonlySet<string>;
  /** Whether this row may be chosen (a verified record the user may share). */
  selectable(row: RecordRow, state: SummaryState): boolean;
  set(ids: readonly string[], on: boolean): void;
}

/** Search the rows' decrypted content: ids of matching records, best first. */
export type SearchRecords = (query: string) => Promise<string[]>;

/** The matches of the last search that answered (a newer query keeps them until it answers). */
interface Hits {
  query: string;
  rank: Map<string, number>;
}

function useSearch(search: SearchRecords, query: string, revision: number): Hits | null {
  const [hits, setHits] = useState<Hits | null>(null);
  // `revision` changes when records are decrypted (and indexed): the search runs again over them.
  useEffect(() => {
    if (!query) return;
    let live = true;
    void search(query).then((ids) => {
      if (live) setHits({ query, rank: new Map(ids.map((id, i) => [id, i])) });
    });
    return () => {
      live = false;
    };
  }, [search, query, revision]);
  return query ? hits : null;
}

/**
 * The records list: virtualized (only rows in view are in the DOM), titles decrypted by the
 * loader with the rows in view first. Search (title, text, kind, date) and the kind filter see
 * decrypted records only; search results come best first.
 */
export function RecordList({
  rows,
  loader,
  search,
  hrefFor,
  loadingMore = false,
  selection,
  authorFlags = () => NO_FLAGS,
}: {
  rows: RecordRow[];
  loader: SummaryLoader<RecordRow>;
  search: SearchRecords;
  hrefFor(id: string): string;
  loadingMore?: boolean;
  selection?: RecordSelection;
  authorFlags?(row: RecordRow, state: VerifiedSummary): AuthorFlags;
}) {
  const revision = useSyncExternalStore(loader.subscribe, loader.getRevision);
  const [kind, setKind] = useState<RecordKind | ''>('');
  const [text, setText] = useState('');
  const query = text.trim();
  const hits = useSearch(search, query, revision);
  const filtered = useMemo(() => {
    // `revision` changes when a title arrives, so the kind filter re-runs on newly decrypted rows.
    const ofKind = (r: RecordRow) => {
      const state = loader.get(r);
      return (
        revision >= 0 && (!kind || (state.status === 'verified' && state.summary.kind === kind))
      );
    };
    if (!query) return rows.filter(ofKind);
    if (!hits) return [];
    const { rank } = hits;
    return rows
      .filter((r) => rank.has(r.id) && ofKind(r))
      .sort((a, b) => (rank.get(a.id) ?? 0) - (rank.get(b.id) ?? 0));
  }, [rows, loader, kind, query, hits, revision]);
  const searching = !!query && hits?.query !== query;
  const pending = rows.filter((r) => loader.get(r).status === 'pending').length;
  const choosable = selection
    ? filtered.filter((r) => selection.selectable(r, loader.get(r))).map((r) => r.id)
    : [];
  const allChosen = choosable.length > 0 && choosable.every((id) => selection?.selected.has(id));

  const scrollRef = useRef<HTMLDivElement>(null);
  const virtualizer = useVirtualizer({
    count: filtered.length,
    getScrollElement: () => scrollRef.current,
    estimateSize: () => ROW_HEIGHT,
    overscan: 6,
    initialRect: { width: 800, height: 600 },
  });
  const items = virtualizer.getVirtualItems();
  const first = items[0]?.index ?? 0;
  const last = items[items.length - 1]?.index ?? 0;

  useEffect(() => {
    const visible = filtered.slice(first, last + 1);
    loader.request(rows, visible);
  }, [rows, filtered, first, last, loader]);

  return (
    <div>
      <div className={styles.filters} role="search">
        <TextField
          label="Search records"
          hint="Title, text, kind or date. Searched in this browser only."
          type="search"
          value={text}
          onChange={(e) => setText(e.target.value)}
        />
        <SelectField
          label="Kind"
          value={kind}
          onChange={(e) => setKind(e.target.value as RecordKind | '')}
        >
          <option value="">All kinds</option>
          {RECORD_KINDS.map((k) => (
            <option key={k} value={k}>
              {KIND_LABELS[k]}
            </option>
          ))}
        </SelectField>
      </div>
      <p aria-live="polite" className={styles.itemMeta}>
        {filtered.length} of {rows.length} records{query ? ` match “${query}”` : ''}
        {searching ? ' · searching…' : ''}
        {loadingMore ? ' · loading more…' : ''}
        {pending > 0 ? ` · decrypting ${pending}…` : ''}
      </p>
      {selection && choosable.length > 0 ? (
        <label className={styles.selectAll}>
          <input
            type="checkbox"
            checked={allChosen}
            onChange={() => selection.set(choosable, !allChosen)}
          />{' '}
          Select all {choosable.length} shown
        </label>
      ) : null}
      {/* Never 0 px high: the virtualizer measures the box, and an empty one renders no row when matches arrive. */}
      <div
        ref={scrollRef}
        className={styles.list}
        style={{ height: virtualizer.getTotalSize() + 2, minHeight: ROW_HEIGHT }}
        role="region"
        aria-label="Records"
        tabIndex={0}
      >
        <ul
          style={{
            height: virtualizer.getTotalSize(),
            position: 'relative',
            listStyle: 'none',
            margin: 0,
            padding: 0,
          }}
        >
          {items.map((item) => {
            const row = filtered[item.index];
            if (!row) return null;
            const state = loader.get(row);
            const listItem = (
              <RecordListItem
                row={row}
                state={state}
                href={hrefFor(row.id)}
                flags={state.status === 'verified' ? authorFlags(row, state) : NO_FLAGS}
              />
            );
            return (
              <li
                key={row.id}
                style={{
                  position: 'absolute',
                  top: 0,
                  left: 0,
                  right: 0,
                  transform: `translateY(${item.start}px)`,
                }}
              >
                {selection ? (
                  <div className={styles.selectable}>
                    <SelectBox row={row} state={state} selection={selection} />
                    {listItem}
                  </div>
                ) : (
                  listItem
                )}
              </li>
            );
          })}
        </ul>
      </div>
    </div>
  );
}

function SelectBox({
  row,
  state,
  selection,
}: {
  row: RecordRow;
  state: SummaryState;
  selection: RecordSelection;
}) {
  if (!selection.selectable(row, state)) return <span />;
  const title = state.status === 'verified' ? state.summary.title : 'this record';
  return (
    <input
      type="checkbox"
      aria-label={`Select ${title}`}
      checked={selection.selected.has(row.id)}
      onChange={(e) => selection.set([row.id], e.target.checked)}
    />
  );
}

function RecordListItem({
  row,
  state,
  href,
  flags,
}: {
  row: RecordRow;
  state: SummaryState;
  href: string;
  flags: AuthorFlags;
}) {
  const by = flags.keyUnverified ? `by ${row.author}, key not verified` : `by ${row.author}`;
  const who = row.owner ? `${row.owner} · ${by}` : by;
  return (
    <Link to={href} className={styles.item} data-record-id={row.id}>
      {state.status === 'verified' ? (
        <>
          <span className={styles.itemTitle}>
            {state.summary.title} {row.isNew ? <Badge tone="ok">New</Badge> : null}{' '}
            {flags.withoutConsent ? <Badge tone="warn">Written without your consent</Badge> : null}
          </span>
          <Badge>{KIND_LABELS[state.summary.kind]}</Badge>
          <span className={styles.itemMeta}>
            {formatDay(state.summary.date)} · {who}
          </span>
        </>
      ) : state.status === 'pending' ? (
        <>
          <span className={styles.pending}>Decrypting…</span>
          <span />
          <span className={styles.itemMeta}>checking its signature</span>
        </>
      ) : (
        <>
          <span className={styles.itemTitle}>
            {state.status === 'failed' ? 'Record failed verification' : 'Cannot open this record'}
          </span>
          <Badge tone="bad">
            {state.status === 'failed' ? failureLabel(state.failure) : 'Error'}
          </Badge>
          <span className={styles.itemMeta}>author and date not shown: not verified</span>
        </>
      )}
    </Link>
  );
}
