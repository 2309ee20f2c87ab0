import { useEffect, useRef, useState, type FormEvent } from 'react';
import { useParams } from 'react-router';
import { useMutation, useQuery, useQueryClient } from '@tanstack/react-query';
import type { TeamMemberState, TeamRole } from '@medseal/crypto';
import { describeError } from '../../api/errors';
import { formatDay } from '../../app/dates';
import { PageHead } from '../../app/PageHead';
import { useWorkspace } from '../../app/workspace';
import { Badge, Banner, Button, Card, Progress, SelectField, TextField } from '../../ui';
import type { Person } from '../../app/keyBook';
import { canShare } from '../contacts/contactsModel';
import { FingerprintView } from '../sharing/Fingerprint';
import { FirstContact } from '../sharing/FirstContact';
import { CompareDialog } from '../sharing/KeyVerification';
import { PersonKeyCheck, type KeyCandidate } from '../sharing/PersonKeyCheck';
import { useCandidate, usePinBeforeSharing } from '../sharing/candidates';
import { confirmedLabel, useConfirmedNames } from '../records/useNames';
import { addMember, loadTeam, removeMember, type VerifiedTeam } from './teamService';
import { rekeyStatus, rekeyTeam, type RekeyListing, type RekeyProgress } from './rekey';

/** The query key of a verified team; every change of the team refetches it. */
export const teamQueryKey = (teamId: string) => ['team', teamId] as const;

const ROLE_WORDS: Record<TeamRole, string> = { doctor: 'Doctor', nurse: 'Nurse', staff: 'Staff' };

/** One team: its members as its signed history says, and, for its admins, adding and removing. */
export function TeamPage() {
  const { teamId = '' } = useParams();
  const { deps } = useWorkspace();
  const team = useQuery({ queryKey: teamQueryKey(teamId), queryFn: () => loadTeam(deps, teamId) });
  if (team.isPending) return <p aria-busy="true">Checking the team’s signed history…</p>;
  if (team.isError) return <Banner tone="bad">{describeError(team.error)}</Banner>;
  const { state } = team.data;
  const me = state.members.find((m) => m.userId === deps.me.id);
  return (
    <>
      <PageHead title={`${state.name} (${state.practiceName})`} />
      <TeamCheck root={state.root} />
      {me?.admin ? <Rekey team={team.data} /> : null}
      <Members team={team.data} isAdmin={me?.admin === true} />
      {me?.admin ? <AddMember team={team.data} /> : null}
    </>
  );
}

/**
 * How patients check the team (issue 14: plain words, the technical detail one click away):
 * they compare numbers with its founder, whose key signed the team's creation, as for a person.
 */
function TeamCheck({ root }: { root: VerifiedTeam['state']['root'] }) {
  const names = useConfirmedNames([root]);
  const founder = names.get(root.userId) ?? 'the team’s founder';
  return (
    <Card labelledBy="team-check">
      <h2 id="team-check">How patients check this team</h2>
      <p>
        Before they share with the team, patients compare numbers with {founder}, who created it, as
        they do for any person. When the numbers match, they know this is the real team and not a
        copy.
      </p>
      <details>
        <summary>Details</summary>
        <p>
          The numbers are made from the key fingerprint of {founder}, which signed the team’s
          creation:
        </p>
        <FingerprintView fingerprint={root.fingerprint} label="Founder’s key fingerprint" />
      </details>
    </Card>
  );
}

/**
 * Admins: after someone left (a new team key), re-encrypt the current version of every record
 * shared with the team to the new key, in the background, with its progress. What is left is
 * asked of the server each time this page opens, so a reload goes on where the data says.
 */
function Rekey({ team }: { team: VerifiedTeam }) {
  const { deps } = useWorkspace();
  const status = useQuery({
    queryKey: ['rekey-status', team.state.teamId, team.state.seq],
    queryFn: () => rekeyStatus(deps, team),
  });
  const [progress, setProgress] = useState<RekeyProgress | null>(null);
  const started = useRef<string | null>(null);
  const stopped = useRef(false);
  // The run in flight, if any. One at a time: two runs re-keyed the same records (the second's
  // write of each was a 409), and both wrote the one progress bar.
  const inFlight = useRef<{ runKey: string; stop: boolean } | null>(null);
  // The run works from the page's listing of the team's records: it used to list them all again
  // (each with its message) before it started, so each rotation listed every record twice.
  const run = useMutation({
    mutationFn: (flight: { runKey: string; stop: boolean; listing: RekeyListing }) =>
      rekeyTeam(deps, team, flight.listing, setProgress, () => stopped.current || flight.stop),
    onSettled: () => {
      inFlight.current = null;
    },
  });
  const left = status.data?.stale.length ?? 0;
  const runKey = `${team.state.teamId}:${team.state.seq}`;
  const { mutate, isPending } = run;
  useEffect(() => {
    // The team changed again during a run: that run works from an older key, so it stops, and
    // the run for the new key starts once it has.
    if (inFlight.current && inFlight.current.runKey !== runKey) inFlight.current.stop = true;
    // Starts by itself once per team change, when the data says records are left.
    if (status.data && left > 0 && started.current !== runKey && !inFlight.current) {
      started.current = runKey;
      const flight = { runKey, stop: false, listing: status.data };
      inFlight.current = flight;
      mutate(flight);
    }
  }, [status.data, left, runKey, mutate, isPending]);
  useEffect(() => {
    stopped.current = false;
    return () => {
      stopped.current = true;
    };
  }, []);
  if (status.isError) return <Banner tone="bad">{describeError(status.error)}</Banner>;
  if (!run.isPending && left === 0 && !progress) return null;
  const fraction = progress && progress.total > 0 ? progress.done / progress.total : null;
  return (
    <Card labelledBy="rekey">
      <h2 id="rekey">Re-encrypting the team’s records</h2>
      <p>
        Someone left the team, so it has a new key. The records shared with the team are being
        re-encrypted to it, so that the person who left cannot open any later version. They may have
        kept what they already read. You can keep working; if you close this page, it goes on the
        next time an admin opens it.
      </p>
      {run.isPending && progress ? (
        <Progress
          label={`Re-encrypted ${progress.done} of ${progress.total} records`}
          value={fraction}
        />
      ) : null}
      {run.isPending && !progress ? (
        <Progress label="Finding the team’s records" value={null} />
      ) : null}
      {run.isSuccess && progress ? (
        <Banner tone={progress.skipped > 0 ? 'warn' : 'ok'}>
          {progress.skipped > 0
            ? `${progress.skipped} record(s) could not be re-encrypted now (one failed verification or changed meanwhile); the others the server lists use the team’s new key.`
            : 'Every record the server lists as shared with the team now uses its new key.'}
        </Banner>
      ) : null}
      {run.isError ? <Banner tone="bad">{describeError(run.error)}</Banner> : null}
    </Card>
  );
}

function Members({ team, isAdmin }: { team: VerifiedTeam; isAdmin: boolean }) {
  const { state } = team;
  // Named only by the key the team signed in for each (useConfirmedNames); a signer who is no
  // longer a member has no key left here.
  const names = useConfirmedNames(state.members);
  const signerOf = (m: TeamMemberState) => {
    const signer = state.members.find((x) => x.userId === m.signedBy);
    return signer ? confirmedLabel(names, signer) : 'a former admin';
  };
  const [leaving, setLeaving] = useState<TeamMemberState | null>(null);
  return (
    <Card labelledBy="team-members">
      <h2 id="team-members">Members</h2>
      <p>Each role below is signed by a team admin.</p>
      <table>
        <thead>
          <tr>
            <th scope="col">Name</th>
            <th scope="col">Role</th>
            <th scope="col">Since</th>
            <th scope="col">Signed by</th>
            {isAdmin ? <th scope="col">Action</th> : null}
          </tr>
        </thead>
        <tbody>
          {state.members.map((m) => (
            <tr key={m.userId} data-member={m.userId}>
              <td>{confirmedLabel(names, m)}</td>
              <td>
                {ROLE_WORDS[m.role]} {m.admin ? <Badge tone="ok">admin</Badge> : null}
              </td>
              <td>{formatDay(m.since)}</td>
              <td>{signerOf(m)}</td>
              {isAdmin ? (
                <td>
                  <Button variant="secondary" onClick={() => setLeaving(m)}>
                    Remove {confirmedLabel(names, m)}
                  </Button>
                </td>
              ) : null}
            </tr>
          ))}
        </tbody>
      </table>
      {leaving ? (
        <RemoveMember
          team={team}
          member={leaving}
          name={confirmedLabel(names, leaving)}
          onDone={() => setLeaving(null)}
        />
      ) : null}
    </Card>
  );
}

function RemoveMember({
  team,
  member,
  name,
  onDone,
}: {
  team: VerifiedTeam;
  member: TeamMemberState;
  name: string;
  onDone: () => void;
}) {
  const { deps } = useWorkspace();
  const queryClient = useQueryClient();
  const remove = useMutation({
    mutationFn: () => removeMember(deps, team, member.userId),
    onSuccess: async () => {
      await queryClient.invalidateQueries({ queryKey: teamQueryKey(team.state.teamId) });
      onDone();
    },
  });
  return (
    <Banner tone="warn" title={`Remove ${name} from the team?`}>
      <p>
        They stop getting the team’s records at once, and the team gets a new key. They may have
        kept what they already read. Records shared with the team are then re-encrypted to the new
        key in the background.
      </p>
      <details>
        <summary>Details</summary>
        {/* The team's signed history names the member by key; the name is the directory's. */}
        <FingerprintView fingerprint={member.fingerprint} label={`${name}’s key fingerprint`} />
      </details>
      <Button variant="danger" disabled={remove.isPending} onClick={() => remove.mutate()}>
        {remove.isPending ? 'Removing…' : `Remove ${name}`}
      </Button>{' '}
      <Button variant="secondary" disabled={remove.isPending} onClick={onDone}>
        Cancel
      </Button>
      {remove.isError ? <p role="alert">{describeError(remove.error)}</p> : null}
    </Banner>
  );
}

/**
 * Adding a member wraps the team key to the key the directory gives for them, so it is checked
 * as for sharing (DESIGN §7, §13): a key seen before is added at once; a first contact asks
 * first, comparing numbers as the default; a changed key or numbers that did not match block it.
 */
function AddMember({ team }: { team: VerifiedTeam }) {
  const { deps } = useWorkspace();
  const queryClient = useQueryClient();
  const toCandidate = useCandidate();
  const pinBeforeSharing = usePinBeforeSharing();
  const [email, setEmail] = useState('');
  const [role, setRole] = useState<TeamRole>('doctor');
  // The person found and their key check, while it asks (first contact) or refuses (blocked).
  const [asking, setAsking] = useState<{ person: Person; candidate: KeyCandidate } | null>(null);
  const [comparing, setComparing] = useState(false);
  const add = useMutation({
    mutationFn: async (person: Person) => {
      await pinBeforeSharing(person);
      return addMember(deps, team, person, role);
    },
    onSuccess: async () => {
      setEmail('');
      setAsking(null);
      await queryClient.invalidateQueries({ queryKey: teamQueryKey(team.state.teamId) });
    },
  });
  const find = useMutation({
    mutationFn: async () => {
      const person = await deps.keyBook.findByEmail(email.trim());
      if (!person) throw new Error('No Medseal account has this email address.');
      return { person, candidate: await toCandidate(person) };
    },
    onSuccess: (found) => {
      const { status } = found.candidate.state;
      if (status === 'pinned' || status === 'verified') add.mutate(found.person);
      else setAsking(found);
    },
  });
  const submit = (e: FormEvent) => {
    e.preventDefault();
    setAsking(null);
    if (email.trim()) find.mutate();
  };
  const busy = find.isPending || add.isPending;
  const error = find.error ?? add.error;
  return (
    <Card labelledBy="add-member">
      <h2 id="add-member">Add a member</h2>
      <p>
        They can read every record shared with the team as soon as they are added. Nothing is
        re-encrypted.
      </p>
      <form onSubmit={submit}>
        <TextField
          label="Their email"
          type="email"
          value={email}
          onChange={(e) => setEmail(e.target.value)}
          autoComplete="off"
        />
        <SelectField
          label="Their role in the team"
          value={role}
          onChange={(e) => setRole(e.target.value as TeamRole)}
        >
          <option value="doctor">Doctor</option>
          <option value="nurse">Nurse</option>
          <option value="staff">Staff</option>
        </SelectField>
        <Button type="submit" disabled={busy || !email.trim()}>
          {busy ? 'Adding…' : 'Add to the team'}
        </Button>
      </form>
      {error ? <Banner tone="bad">{describeError(error)}</Banner> : null}
      {asking?.candidate.state.status === 'new' ? (
        <FirstContact
          name={asking.person.name}
          heading={`First time adding ${asking.person.name}`}
          what={`every record shared with ${team.state.name}`}
          proceedLabel="Add without comparing"
          busy={busy}
          onCompare={() => setComparing(true)}
          onProceed={() => add.mutate(asking.person)}
          onCancel={() => setAsking(null)}
        />
      ) : null}
      {asking && !canShare(asking.candidate.state) ? (
        <>
          <PersonKeyCheck candidate={asking.candidate} onCompare={() => setComparing(true)} />
          <p>You cannot add {asking.person.name} with this key until the numbers match.</p>
        </>
      ) : null}
      <CompareDialog
        candidate={asking?.candidate}
        open={comparing}
        onVerified={() => {
          setComparing(false);
          if (asking) add.mutate(asking.person);
        }}
        onClose={() => {
          setComparing(false);
          setAsking(null);
        }}
      />
    </Card>
  );
}
