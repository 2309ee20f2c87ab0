import { Link, useParams } from 'react-router';
import { describeError } from '../../api/errors';
import { PageHead } from '../../app/PageHead';
import { useWorkspace } from '../../app/workspace';
import { Banner, Card } from '../../ui';
import { useRecords, useTeamRecords, withTeamRecords } from '../records/queries';
import { RecordsPage } from '../records/RecordsPage';
import { useNames } from '../records/useNames';
import { FirstSteps } from '../onboarding/FirstSteps';

/** Doctor: patients who shared records with me or with one of my care teams (or for whom I wrote one). */
export function PatientsPage() {
  const { deps } = useWorkspace();
  const records = useRecords();
  const viaTeams = useTeamRecords();
  const counts = new Map<string, number>();
  for (const r of withTeamRecords(records.data ?? [], viaTeams.data ?? []))
    if (r.ownerId !== deps.me.id) counts.set(r.ownerId, (counts.get(r.ownerId) ?? 0) + 1);
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
