import { useState } from 'react';
import { useQuery } from '@tanstack/react-query';
import { endpoints } from '@medseal/contract';
import { describeError } from '../../api/errors';
import { PageHead } from '../../app/PageHead';
import { useWorkspace } from '../../app/workspace';
import { Banner } from '../../ui';
import { useRecords } from '../records/queries';
import { openRecordDto } from '../records/recordService';
import { AccessLogTable, type AccessLogRow } from './AccessLogTable';

/** Who opened, changed or shared which of my records and when, with each trail's chain check. */
export function AccessLogPage() {
  const { deps } = useWorkspace();
  const records = useRecords();
  const [showMine, setShowMine] = useState(false);
  const mine = (records.data ?? []).filter((r) => r.ownerId === deps.me.id);
  const log = useQuery({
    queryKey: ['access-log', mine.map((r) => `${r.id}@${r.version}`).join(',')],
    enabled: records.complete,
    queryFn: async () => {
      const rows: AccessLogRow[] = [];
      const broken: { record: string; seq: number }[] = [];
      for (const r of mine) {
        const [trail, opened] = await Promise.all([deps.call(endpoints.recordAudit, { params: { recordId: r.id } }), openRecordDto(deps, r)]);
        const title = opened.status === 'verified' ? opened.content.title : 'Record that failed verification';
        if (trail.verification.status === 'broken') broken.push({ record: title, seq: trail.verification.seq });
        for (const e of trail.events) {
          const actor = e.actorId === deps.me.id ? 'You' : (await deps.keyBook.get(e.actorId).catch(() => null))?.name ?? 'Unknown user';
          rows.push({ key: `${e.recordId}-${e.seq}`, at: e.at, actor, action: e.action, record: title });
        }
      }
      rows.sort((a, b) => b.at.localeCompare(a.at));
      return { rows, broken };
    },
  });
  return (
    <>
      <PageHead title="Access log" />
      <p>
        Who saw your records in a list, opened, changed, shared or deleted them, by day and person. The server writes each of these down in a log that cannot be changed
        without it showing.
      </p>
      {records.isError ? <Banner tone="bad">{describeError(records.error)}</Banner> : null}
      {log.isError ? <Banner tone="bad">{describeError(log.error)}</Banner> : null}
      {log.isPending ? <p aria-busy="true">Loading the access log…</p> : null}
      <label style={{ display: 'flex', gap: 8, alignItems: 'center', margin: '0 0 12px' }}>
        <input type="checkbox" checked={showMine} onChange={(e) => setShowMine(e.target.checked)} /> Show my own activity
      </label>
      {log.data ? <AccessLogTable rows={showMine ? log.data.rows : log.data.rows.filter((r) => r.actor !== 'You')} broken={log.data.broken} /> : null}
    </>
  );
}
