import { useQuery } from '@tanstack/react-query';
import { describeError } from '../../api/errors';
import { useWorkspace } from '../../app/workspace';
import { Banner } from '../../ui';
import type { VerifiedRecord } from '../records/opened';
import { useNames } from '../records/useNames';
import { verifiedCarersOf } from './consents';

/**
 * For a doctor reading a colleague's note for a patient (issue 10, DESIGN §13): whether the
 * patient's own signed consent lets that colleague, with the key that signed the note, write for
 * her — in person, or through a care team of the record the colleague is a current member of.
 * Only from her statements verified here with her key (the one the record's verified readers
 * name); otherwise nothing is claimed.
 */
export function ColleagueConsent({
  record,
  authorName,
}: {
  record: VerifiedRecord;
  authorName: string;
}) {
  const { deps } = useWorkspace();
  const ownerId = record.dto.ownerId;
  const patientName = useNames([ownerId]).get(ownerId) ?? 'the patient';
  const ownerFingerprint = record.readers.find((r) => r.userId === ownerId)?.fingerprint;
  const teams = record.teams
    .map((t) => t.team.state)
    .filter((t) =>
      t.members.some(
        (m) => m.userId === record.author.id && m.fingerprint === record.author.fingerprint,
      ),
    );
  const status = useQuery({
    queryKey: ['colleague-consent', record.dto.id, record.dto.version, deps.stamp],
    enabled: !!ownerFingerprint,
    queryFn: async () => {
      const patient = await deps.keyBook.get(ownerId);
      if (patient.fingerprint !== ownerFingerprint)
        throw new Error(
          'The directory gave another key for this patient than the record’s verified readers name: her consents were not checked.',
        );
      const carers = await verifiedCarersOf(deps, patient, teams);
      return (
        carers.carers.some(
          (c) => c.userId === record.author.id && c.fingerprint === record.author.fingerprint,
        ) || carers.teams.length > 0
      );
    },
    gcTime: 0,
  });
  if (status.isError) return <Banner tone="bad">{describeError(status.error)}</Banner>;
  if (status.data === undefined) return null;
  return (
    <p role="status" data-testid="colleague-consent">
      {status.data
        ? `${authorName} may write for ${patientName}: ${patientName}’s signed consent, checked here, names the key that signed this record.`
        : `No consent of ${patientName}’s that you could check lets ${authorName} write for them with this key.`}
    </p>
  );
}
