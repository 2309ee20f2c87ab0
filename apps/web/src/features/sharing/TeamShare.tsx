import { useState, type FormEvent } from 'react';
import { useMutation } from '@tanstack/react-query';
import { endpoints, type TeamSummary } from '@medseal/contract';
import { describeError } from '../../api/errors';
import type { Person } from '../../app/keyBook';
import { useWorkspace } from '../../app/workspace';
import { Banner, Button, TextField } from '../../ui';
import { markVerified, pin, pinStateOf } from '../contacts/contactsModel';
import { shareRecordWithTeam, type VerifiedRecord } from '../records/recordService';
import { useNames } from '../records/useNames';
import type { VerifiedTeam } from '../teams/teamService';
import { PersonKeyCheck, type KeyCandidate } from './PersonKeyCheck';
import { useCandidate } from './SharePanel';

const ROLE_WORDS = { doctor: 'doctor', nurse: 'nurse', staff: 'staff' } as const;

/**
 * Share with a care team (DESIGN §13): find it by name, read its signed history here, and check
 * the key of its admin (the founder, who signed every member in) exactly as for a person:
 * fingerprint, safety number, QR code, pinned on first use, a changed key blocks sharing.
 */
export function TeamShare({ record, onShared }: { record: VerifiedRecord; onShared(): void }) {
  const { deps, contacts } = useWorkspace();
  const toCandidate = useCandidate();
  const [name, setName] = useState('');
  const [found, setFound] = useState<TeamSummary[] | null>(null);
  const [chosen, setChosen] = useState<{ team: VerifiedTeam; admin: Person; candidate: KeyCandidate } | null>(null);

  const search = useMutation({
    mutationFn: (prefix: string) => deps.call(endpoints.findTeams, { query: { namePrefix: prefix } }),
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
      if (admin.fingerprint !== team.state.root.fingerprint) throw new Error(`The server gave a key for the team’s admin ${admin.name} that is not the one the team was created with. Refused.`);
      return { team, admin, candidate: await toCandidate(admin) };
    },
    onSuccess: setChosen,
  });
  // As in the person dialog: the pin state is recomputed from the list just saved.
  const changePin = async (change: Parameters<typeof contacts.update>[0]) => {
    if (!chosen) return;
    const { admin } = chosen;
    await contacts.update(change);
    const next = await toCandidate(admin);
    setChosen({ ...chosen, candidate: { ...next, state: pinStateOf(change(contacts.loaded?.doc ?? { v: 1, contacts: {} }), admin.id, admin.fingerprint) } });
  };
  const verify = useMutation({
    mutationFn: async () => {
      if (!chosen) return;
      const { admin } = chosen;
      await changePin((doc) => markVerified(doc, { id: admin.id, name: admin.name, role: admin.role }, admin.fingerprint, new Date()));
    },
  });
  const share = useMutation({
    mutationFn: async () => {
      if (!chosen) return;
      const { admin, candidate, team } = chosen;
      if (candidate.state.status === 'changed') throw new Error('Sharing is blocked until you verify the admin’s new key.');
      if (candidate.state.status === 'new') await changePin((doc) => pin(doc, { id: admin.id, name: admin.name, role: admin.role }, admin.fingerprint, new Date()));
      await shareRecordWithTeam(deps, record, team);
    },
    onSuccess: onShared,
  });

  const submit = (e: FormEvent) => {
    e.preventDefault();
    if (name.trim().length >= 2) search.mutate(name.trim());
  };
  const error = search.error ?? open.error ?? verify.error ?? share.error;
  const teamName = chosen ? `${chosen.team.state.name} (${chosen.team.state.practiceName})` : '';
  return (
    <div aria-labelledby="team-share-title">
      <h3 id="team-share-title">Or share with a care team</h3>
      <p>Everyone in the team can then read this record, and only while they are in it.</p>
      <form onSubmit={submit} role="search" aria-label="Find a care team">
        <TextField label="Team name" value={name} onChange={(e) => setName(e.target.value)} hint="At least two letters, for example: Cardiology" />
        <Button type="submit" variant="secondary" disabled={search.isPending || name.trim().length < 2}>
          Search teams
        </Button>
      </form>
      {error ? <Banner tone="bad">{describeError(error)}</Banner> : null}
      {found && found.length === 0 ? <Banner tone="info">No care team has that name.</Banner> : null}
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
        record.dto.teams.some((t) => t.teamId === chosen.team.state.teamId) ? (
          <Banner tone="info">{teamName} can already read this record.</Banner>
        ) : (
          <>
            <p>
              <strong>{teamName}</strong> is run by {chosen.admin.name}, who signed every member in. Check {chosen.admin.name}’s key before you share:
            </p>
            <PersonKeyCheck
              candidate={chosen.candidate}
              busy={verify.isPending || share.isPending}
              shareLabel={`Share with ${chosen.team.state.name}`}
              onMarkVerified={() => verify.mutate()}
              onShare={() => share.mutate()}
            />
            <TeamMembers team={chosen.team} />
          </>
        )
      ) : null}
      {share.isPending ? <p aria-live="polite">Sharing with the team…</p> : null}
    </div>
  );
}

/** A verified team's current members with the role its admins signed. */
export function TeamMembers({ team }: { team: VerifiedTeam }) {
  const names = useNames(team.state.members.map((m) => m.userId));
  return (
    <ul aria-label={`Members of ${team.state.name}`}>
      {team.state.members.map((m) => (
        <li key={m.userId}>
          {names.get(m.userId) ?? '…'} — {ROLE_WORDS[m.role]}
          {m.admin ? ', admin' : ''}
        </li>
      ))}
    </ul>
  );
}
