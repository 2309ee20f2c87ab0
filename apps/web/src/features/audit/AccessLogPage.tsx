import { useState } from 'react';
import { useQuery } from '@tanstack/react-query';
import { describeError } from '../../api/errors';
import { PageHead } from '../../app/PageHead';
import { useWorkspace } from '../../app/workspace';
import { Banner } from '../../ui';
import { useRecords } from '../records/queries';
import { loadAccessLog, othersActivity } from './accessLog';
import { AccessLogTable } from './AccessLogTable';

/** Who opened, changed or shared which of my records and when, each trail checked by this app. */
export function AccessLogPage() {
  const { deps } = useWorkspace();
  const records = useRecords();
  const [showMine, setShowMine] = useState(false);
  const mine = (records.data ?? []).filter((r) => r.ownerId === deps.me.id);
  const log = useQuery({
    queryKey: ['access-log', mine.map((r) => `${r.id}@${r.version}`).join(',')],
    enabled: records.complete,
    queryFn: () => loadAccessLog(deps, mine),
  });
  return (
    <>
      <PageHead title="Access log" />
      <p>
        Who saw your records in a list, opened, changed, shared or deleted them, by day and person.
        This app checks that no entry was removed or changed since you last looked.
      </p>
      <details>
        <summary>Details</summary>
        <p>
          The server writes each of these down in a hash chain that this app checks itself; each
          time you look, your key signs how far you have seen it, so entries removed later show.
        </p>
      </details>
      {records.isError ? <Banner tone="bad">{describeError(records.error)}</Banner> : null}
      {log.isError ? <Banner tone="bad">{describeError(log.error)}</Banner> : null}
      {log.isPending ? <p aria-busy="true">Checking the access log…</p> : null}
      <label style={{ display: 'flex', gap: 8, alignItems: 'center', margin: '0 0 12px' }}>
        <input type="checkbox" checked={showMine} onChange={(e) => setShowMine(e.target.checked)} />{' '}
        Show my own activity
      </label>
      {log.data ? (
        <AccessLogTable
          rows={showMine ? log.data.rows : othersActivity(log.data.rows, deps.me.id)}
          failed={log.data.failed}
        />
      ) : null}
    </>
  );
}
