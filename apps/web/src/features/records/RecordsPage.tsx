import { useMemo } from 'react';
import { Link } from 'react-router';
import { describeError } from '../../api/errors';
import { PageHead } from '../../app/PageHead';
import { useWorkspace } from '../../app/workspace';
import { Banner, Button, uiStyles } from '../../ui';
import { useRecords, useTeamRecords, withTeamRecords } from './queries';
import { RecordList, type RecordRow } from './RecordList';
import { useNames } from './useNames';

/** Records I can read: owned, written, or shared with me (optionally one patient's only). */
export function RecordsPage({ ownerId, title = 'Records' }: { ownerId?: string; title?: string }) {
  const { deps, loader, live, search } = useWorkspace();
  const records = useRecords();
  // A patient's page also lists what she shared with my care teams.
  const viaTeams = useTeamRecords({ enabled: !!ownerId });
  const all = useMemo(() => (ownerId ? withTeamRecords(records.data ?? [], viaTeams.data ?? []) : (records.data ?? [])), [records.data, viaTeams.data, ownerId]);
  const visible = useMemo(() => all.filter((r) => !ownerId || r.ownerId === ownerId), [all, ownerId]);
  const names = useNames(visible.flatMap((r) => [r.authorId, r.ownerId]));
  const rows: RecordRow[] = useMemo(
    () =>
      visible.map((r) => ({
        id: r.id,
        version: r.version,
        updatedAt: r.updatedAt,
        dto: r,
        isNew: live.fresh.has(r.id) && r.authorId !== deps.me.id,
        author: r.authorId === deps.me.id ? 'you' : (names.get(r.authorId) ?? '…'),
        ...(deps.me.role === 'doctor' && r.ownerId !== deps.me.id ? { owner: names.get(r.ownerId) ?? '…' } : {}),
      })),
    [visible, names, deps.me, live.fresh],
  );
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
      {records.isSuccess && visible.length === 0 ? (
        <Banner tone="info" title="No records yet.">
          {deps.me.role === 'patient' ? 'Create your first record: it is encrypted in this browser before it is stored.' : 'When patients share records with you, they appear here.'}
        </Banner>
      ) : null}
      {visible.length > 0 ? <RecordList rows={rows} loader={loader} search={search.search} loadingMore={!records.complete} hrefFor={(id) => `/records/${id}`} /> : null}
    </>
  );
}
