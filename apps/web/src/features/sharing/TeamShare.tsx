import { useState, type FormEvent } from 'react';
import { useMutation } from '@tanstack/react-query';
import { endpoints, type TeamSummary } from '@medseal/contract';
import { describeError } from '../../api/errors';
import type { Person } from '../../app/keyBook';
import { useWorkspace } from '../../app/workspace';
import { Badge, Banner, Button, Progress, TextField, uiStyles } from '../../ui';
import { consentsNow, setConsent, teamSubject } from '../consents/consents';
import { shareRecordsWithTeam } from '../records/recordService';
import { confirmedLabel, useConfirmedNames } from '../records/useNames';
import type { VerifiedTeam } from '../teams/teamService';
import { FirstContact } from './FirstContact';
import { KeyVerification } from './KeyVerification';
import { PersonKeyCheck, type KeyCandidate } from './PersonKeyCheck';
import { useCandidate, usePinBeforeSharing, type ShareTarget } from './candidates';

const ROLE_WORDS = { doctor: 'doctor', nurse: 'nurse', staff: 'staff' } as const;

/**
 * Share with a care team (DESIGN §13): find it by name, read its signed history here, and check
 * the key of its admin (the founder, who signed every member in) exactly as for a person: the
 * same numbers to compare, a first contact asked about first, pinned on first use, a changed key
 * blocks sharing. One record or several, with one progress bar.
 */
export function TeamShare({
  target,
  onShared,
  onClose,
}: {
  target: ShareTarget;
  onShared(): void;
  onClose(): void;
}) {
  const { deps } = useWorkspace();
  const toCandidate = useCandidate();
  const pinBeforeSharing = usePinBeforeSharing();
  const [name, setName] = useState('');
  const [found, setFound] = useState<TeamSummary[] | null>(null);
  const [chosen, setChosen] = useState<{
    team: VerifiedTeam;
    admin: Person;
    candidate: KeyCandidate;
  } | null>(null);
  // Comparing numbers (then sharing, when chosen from the first-contact question), or that question.
  const [step, setStep] = useState<
    'team' | 'first-contact' | { compare: true; thenShare: boolean }
  >('team');
  const [progress, setProgress] = useState<{ done: number; total: number } | null>(null);
  // Consent to write for the team (DESIGN §13), offered like a person's: ticked by default,
  // untickable, only when my signed state holds no current consent to this team.
  const [allowWriting, setAllowWriting] = useState(true);
  const offersConsent =
    !!chosen &&
    deps.me.role === 'patient' &&
    !consentsNow(deps.accountState.consents, teamSubject(chosen.team.state));

  const search = useMutation({
    mutationFn: (prefix: string) =>
      deps.call(endpoints.findTeams, { query: { namePrefix: prefix } }),
    onSuccess: (r) => {
      setFound(r.teams);
      setChosen(null);
    },
  });
  const open = useMutation({
    mutationFn: async (teamId: string) => {
      const team = await deps.teams.team(teamId);
      deps.keyBook.refresh(team.state.root.userId);
      const admin = await deps.keyBook.get(team.state.root.userId);
      // The admin key is the one the team's creation names, never the directory's say-so.
      if (admin.fingerprint !== team.state.root.fingerprint)
        throw new Error(
          `The server gave a key for the team’s admin ${admin.name} that is not the one the team was created with. Refused.`,
        );
      return { team, admin, candidate: await toCandidate(admin) };
    },
    onSuccess: (team) => {
      setChosen(team);
      setStep('team');
    },
  });
  const share = useMutation({
    mutationFn: async () => {
      if (!chosen) return null;
      const { admin, team } = chosen;
      await pinBeforeSharing(admin);
      const outcome = await shareRecordsWithTeam(deps, target.recordIds, team, (done, total) =>
        setProgress({ done, total }),
      );
      if (offersConsent && allowWriting && outcome.shared.length > 0)
        await setConsent(deps, teamSubject(team.state), true);
      return outcome;
    },
    onSuccess: (outcome) => {
      if (outcome && outcome.failed.length === 0) onShared();
    },
  });

  if (typeof step === 'object' && chosen) {
    return (
      <KeyVerification
        candidate={chosen.candidate}
        onVerified={() => {
          setStep('team');
          void toCandidate(chosen.admin).then((candidate) => {
            setChosen({ ...chosen, candidate });
            if (step.thenShare) share.mutate();
          });
        }}
        onClose={onClose}
      />
    );
  }

  const submit = (e: FormEvent) => {
    e.preventDefault();
    if (name.trim().length >= 2) search.mutate(name.trim());
  };
  const error = search.error ?? open.error ?? share.error;
  const failed = share.data?.failed ?? [];
  const teamName = chosen ? `${chosen.team.state.name} (${chosen.team.state.practiceName})` : '';
  return (
    <section aria-labelledby="team-share-title">
      <h3 id="team-share-title">Or share with a care team</h3>
      <p>Everyone in the team can then read it, and only while they are in the team.</p>
      <form onSubmit={submit} role="search" aria-label="Find a care team">
        <TextField
          label="Team name"
          value={name}
          onChange={(e) => setName(e.target.value)}
          hint="At least two letters, for example: Cardiology"
        />
        <Button
          type="submit"
          variant="secondary"
          disabled={search.isPending || name.trim().length < 2}
        >
          Search teams
        </Button>
      </form>
      {error ? <Banner tone="bad">{describeError(error)}</Banner> : null}
      {failed.length > 0 ? (
        <Banner tone="bad">{`${failed.length} record(s) were not shared: ${failed.map((f) => describeError(f.error)).join(' ')}`}</Banner>
      ) : null}
      {found && found.length === 0 ? (
        <Banner tone="info">No care team has that name.</Banner>
      ) : null}
      {found && found.length > 0 && !chosen ? (
        <ul aria-label="Care teams found">
          {found.map((t) => (
            <li key={t.id}>
              <Button variant="link" disabled={open.isPending} onClick={() => open.mutate(t.id)}>
                {t.name} ({t.practiceName})
              </Button>
            </li>
          ))}
        </ul>
      ) : null}
      {chosen ? (
        <>
          <p>
            <strong>{teamName}</strong> is run by {chosen.candidate.person.name}, who signed every
            member in. Check {chosen.candidate.person.name}’s key before you share:
          </p>
          <PersonKeyCheck
            candidate={chosen.candidate}
            busy={share.isPending}
            shareLabel={`Share with ${chosen.team.state.name}`}
            onCompare={() => setStep({ compare: true, thenShare: false })}
            onShare={() =>
              chosen.candidate.state.status === 'new' ? setStep('first-contact') : share.mutate()
            }
          />
          {step === 'first-contact' && chosen.candidate.state.status === 'new' ? (
            <FirstContact
              name={chosen.candidate.person.name}
              heading={`First time sharing with ${chosen.team.state.name}`}
              what={`${target.recordIds.length === 1 ? 'this record' : 'these records'} through the team`}
              busy={share.isPending}
              onCompare={() => setStep({ compare: true, thenShare: true })}
              onProceed={() => {
                setStep('team');
                share.mutate();
              }}
              onCancel={() => setStep('team')}
            />
          ) : null}
          {offersConsent ? (
            <label>
              <input
                type="checkbox"
                checked={allowWriting}
                disabled={share.isPending}
                onChange={(e) => setAllowWriting(e.target.checked)}
              />{' '}
              Every current member of {chosen.team.state.name} may also write records for you
            </label>
          ) : null}
          <TeamMembers team={chosen.team} />
        </>
      ) : null}
      {share.isPending ? (
        <div aria-busy="true">
          <Progress
            label={
              progress && progress.total > 1
                ? `Sharing ${progress.done} of ${progress.total} records with the team`
                : 'Sharing with the team'
            }
            value={progress && progress.total > 0 ? progress.done / progress.total : null}
          />
        </div>
      ) : null}
    </section>
  );
}

/**
 * A verified team's current members with the role its admins signed. The statements sign keys,
 * not names: a member is named only where the key book finds her with the signed key
 * (useConfirmedNames), by the name the user pinned, else the directory's, and says so; a member
 * whose signed key the user compared is marked "Verified".
 */
export function TeamMembers({ team }: { team: VerifiedTeam }) {
  const { deps } = useWorkspace();
  const names = useConfirmedNames(team.state.members);
  return (
    <>
      <ul aria-label={`Members of ${team.state.name}`}>
        {team.state.members.map((m) => (
          <li key={m.userId}>
            {confirmedLabel(names, m)} — {ROLE_WORDS[m.role]}
            {m.admin ? ', admin' : ''}
            {deps.accountState.isVerified(m.userId, m.fingerprint) ? (
              <>
                {' '}
                <Badge tone="ok">Verified</Badge>
              </>
            ) : null}
          </li>
        ))}
      </ul>
      <p className={uiStyles.hint}>
        The admins signed each member’s key in. Names are as the server gives them, except for
        people in your contacts.
      </p>
    </>
  );
}
