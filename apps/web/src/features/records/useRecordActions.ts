import { useQuery } from '@tanstack/react-query';
import { useWorkspace } from '../../app/workspace';
import { verifiedCarersOf } from '../consents/consents';
import { may, myRoleOn, type RecordAction } from './actions';
import type { VerifiedRecord } from './opened';
import type { RecordDeps } from './recordService';

/** What is offered; `checking`: the owner's consent is being checked (more may be offered then). */
export type RecordActions = Record<RecordAction, boolean> & { checking: boolean };

/**
 * Whether the owner's current consent, verified with her key (the one the record's verified
 * readers name), lets me write for her: in person with my key, or through a team of the record
 * I am a current member of.
 */
async function ownerConsentsToMe(deps: RecordDeps, record: VerifiedRecord): Promise<boolean> {
  const ownerId = record.dto.ownerId;
  const ownerFingerprint = record.readers.find((r) => r.userId === ownerId)?.fingerprint;
  if (!ownerFingerprint) return false;
  const owner = await deps.keyBook.get(ownerId);
  if (owner.fingerprint !== ownerFingerprint) return false;
  const myTeams = record.teams
    .map((t) => t.team.state)
    .filter((t) =>
      t.members.some((m) => m.userId === deps.me.id && m.fingerprint === deps.key.fingerprint),
    );
  return (await verifiedCarersOf(deps, owner, myTeams)).mine;
}

/**
 * The actions the app offers on `record` (none until it verified). For an author or a member
 * the owner's consent is checked first; until it is known, and if it cannot be checked, only
 * what needs none is offered.
 */
export function useRecordActions(record: VerifiedRecord | null): RecordActions {
  const { deps } = useWorkspace();
  const role = record
    ? myRoleOn(record, { id: deps.me.id, fingerprint: deps.key.fingerprint })
    : 'reader';
  const consent = useQuery({
    queryKey: ['my-consent', record?.dto.id, record?.dto.version, deps.stamp],
    enabled: record !== null && (role === 'author' || role === 'member'),
    queryFn: () => (record ? ownerConsentsToMe(deps, record) : false),
    gcTime: 0,
  });
  const consented = consent.data === true;
  return {
    edit: may(role, 'edit', consented),
    share: may(role, 'share', consented),
    delete: may(role, 'delete', consented),
    checking: consent.isLoading,
  };
}
