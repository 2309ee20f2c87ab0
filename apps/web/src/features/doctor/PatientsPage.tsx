import { useEffect, useMemo, useSyncExternalStore } from 'react';
import { Link, useParams } from 'react-router';
import { describeError } from '../../api/errors';
import { PageHead } from '../../app/PageHead';
import { useWorkspace } from '../../app/workspace';
import { Banner, Card } from '../../ui';
import { useRecords, useTeamRecords, withTeamRecords } from '../records/queries';
import { RecordsPage } from '../records/RecordsPage';
import { summaryJobOf, type RecordRow } from '../records/RecordList';
import { useNames } from '../records/useNames';
import { FirstSteps } from '../onboarding/FirstSteps';

/**
 * Doctor: patients who shared records with me or with one of my care teams (or for whom I wrote
 * one). A patient is listed, with a count, only from records that verified (their signed
 * envelope names her as owner): the server's listing alone could make up patients and counts.
 */
export function PatientsPage() {
  const { deps, loader } = useWorkspace();
  const records = useRecords();
  const viaTeams = useTeamRecords();
  const rows: RecordRow[] = useMemo(
    () =>
      withTeamRecords(records.data ?? [], viaTeams.data ?? [])
        .filter((r) => r.ownerId !== deps.me.id)
        .map((r) => ({ ...summaryJobOf(r), author: '' })),
    [records.data, viaTeams.data, deps.me.id],
  );
  useEffect(() => loader.request(rows), [loader, rows]);
  useSyncExternalStore(loader.subscribe, loader.getRevision);
  const counts = new Map<string, number>();
  let checking = 0;
  for (const row of rows) {
    const { status } = loader.get(row);
    if (status === 'pending') checking += 1;
    if (status === 'verified' && row.ownerId)
      counts.set(row.ownerId, (counts.get(row.ownerId) ?? 0) + 1);
  }
  const names = useNames([...counts.keys()]);
  return (
    <>
      <PageHead title="Patients" />
      {records.isError ? <Banner tone="bad">{describeError(records.error)}</Banner> : null}
      {viaTeams.isError ? <Banner tone="bad">{describeError(viaTeams.error)}</Banner> : null}
      {records.isSuccess &&
      !(records.isFetching && !records.isFetchedAfterMount) &&
      records.complete &&
      viaTeams.isSuccess &&
      checking === 0 &&
      counts.size === 0 ? (
        <FirstSteps me={deps.me} />
      ) : null}
      <ul aria-label="Patients" style={{ listStyle: 'none', padding: 0 }}>
        {[...counts.entries()].map(([id, n]) => (
          <li key={id}>
            <Card>
              <Link to={`/patients/${id}`}>{names.get(id) ?? '…'}</Link> — {n} record
              {n === 1 ? '' : 's'} you can read
            </Card>
          </li>
        ))}
      </ul>
      {/* Below the list: a patient's link stays put when the last of her records is checked. */}
      {checking > 0 ? <p aria-busy="true">Checking {checking} record(s)…</p> : null}
    </>
  );
}

export function PatientPage() {
  const { patientId = '' } = useParams();
  const names = useNames([patientId]);
  return (
    <RecordsPage ownerId={patientId} title={`Records of ${names.get(patientId) ?? 'patient'}`} />
  );
}
