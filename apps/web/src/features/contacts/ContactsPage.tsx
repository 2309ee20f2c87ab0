import { useState, useSyncExternalStore } from 'react';
import { keepPreviousData, useMutation, useQuery } from '@tanstack/react-query';
import { describeError } from '../../api/errors';
import { PageHead } from '../../app/PageHead';
import { useWorkspace } from '../../app/workspace';
import { Banner, Button, Card } from '../../ui';
import type { ConsentGiven } from '@medseal/crypto';
import { consentTo, setConsent, type ConsentSubjectRef } from '../consents/consents';
import { CompareDialog } from '../sharing/KeyVerification';
import { useCandidate } from '../sharing/candidates';
import { PersonKeyCheck } from '../sharing/PersonKeyCheck';
import { canShare, type Contact } from './contactsModel';

/** The people I shared with or whose records I read, whether I compared numbers with them, and key changes (DESIGN §7). */
export function ContactsPage() {
  const { contacts } = useWorkspace();
  const list = Object.values(contacts.loaded?.doc.contacts ?? {}).sort((a, b) =>
    a.name.localeCompare(b.name),
  );
  return (
    <>
      <PageHead title="Contacts" />
      <p>
        People you shared with. Compare numbers with each of them once, in person or on a call, so
        that only they can read what you share. This list is locked with your key, so the server
        cannot change it.
      </p>
      {contacts.error ? <Banner tone="bad">{describeError(contacts.error)}</Banner> : null}
      {list.length === 0 ? (
        <Banner tone="info">No contacts yet. They are added when you share a record.</Banner>
      ) : null}
      {list.map((c) => (
        <ContactCard key={c.userId} contact={c} />
      ))}
      <TeamConsents />
    </>
  );
}

/** The current consents from my signed state, kept in step with it. */
function useConsents() {
  const { deps } = useWorkspace();
  return useSyncExternalStore(
    (listener) => deps.accountState.subscribe(listener),
    () => deps.accountState.consents,
  );
}

/** The care teams I let write for me (DESIGN §13), from my signed state, each withdrawable. */
function TeamConsents() {
  const teams = useConsents().filter((c) => c.kind === 'team');
  if (teams.length === 0) return null;
  return (
    <section aria-labelledby="team-consents">
      <h2 id="team-consents">Care teams you let write for you</h2>
      <p>
        Every current member of these teams may write records for you. A member who leaves the team
        no longer may.
      </p>
      {teams.map((c) => (
        <TeamConsentCard key={c.subjectId} consent={c} />
      ))}
    </section>
  );
}

function TeamConsentCard({ consent }: { consent: ConsentGiven }) {
  const { deps } = useWorkspace();
  // The team's name only from its verified log; the withdrawal needs nothing the server says.
  const team = useQuery({
    queryKey: ['team', consent.subjectId],
    queryFn: () => deps.teams.team(consent.subjectId),
  });
  const name = team.data
    ? `${team.data.state.name} (${team.data.state.practiceName})`
    : 'A care team';
  return (
    <Card>
      {team.isError ? <Banner tone="bad">{describeError(team.error)}</Banner> : null}
      <WritingConsent
        name={name}
        subject={{
          kind: 'team',
          id: consent.subjectId,
          fingerprint: consent.fingerprint,
          genesis: consent.genesis ?? '',
        }}
      />
    </Card>
  );
}

function ContactCard({ contact }: { contact: Contact }) {
  const { deps, contacts } = useWorkspace();
  const toCandidate = useCandidate();
  const [comparing, setComparing] = useState(false);
  const candidate = useQuery({
    queryKey: ['candidate', contact.userId, contacts.loaded?.version],
    queryFn: async () => {
      deps.keyBook.refresh(contact.userId);
      return toCandidate(await deps.keyBook.get(contact.userId));
    },
    // Kept while a comparison's outcome reloads it, so the open dialog says what it found.
    placeholderData: keepPreviousData,
  });
  return (
    <Card>
      {candidate.isPending ? <p aria-busy="true">Checking {contact.name}’s key…</p> : null}
      {candidate.isError ? <Banner tone="bad">{describeError(candidate.error)}</Banner> : null}
      {candidate.data ? (
        <PersonKeyCheck candidate={candidate.data} onCompare={() => setComparing(true)} />
      ) : null}
      <CompareDialog
        open={comparing}
        candidate={candidate.data}
        onClose={() => setComparing(false)}
      />
      {deps.me.role === 'patient' && contact.role === 'doctor' && candidate.data ? (
        <WritingConsent
          name={contact.name}
          subject={{ kind: 'person', id: contact.userId, fingerprint: candidate.data.fingerprint }}
          blocked={!canShare(candidate.data.state)}
        />
      ) : null}
    </Card>
  );
}

/**
 * Consent to write (DESIGN §13): whether this doctor (or care team) may write records for me,
 * from my signed account state, and the one action that changes it. Never given to a key that
 * changed or whose numbers did not match (`blocked`); withdrawing is always possible.
 */
function WritingConsent({
  name,
  subject,
  blocked = false,
}: {
  name: string;
  subject: ConsentSubjectRef;
  /** A person's key that changed or did not match (a team here is named by my own statement). */
  blocked?: boolean;
}) {
  const { deps } = useWorkspace();
  const latest = consentTo(useConsents(), subject);
  const current = !!latest && latest.withdrawnAt === undefined;
  const otherKey = current && latest.fingerprint !== subject.fingerprint;
  const change = useMutation({ mutationFn: (give: boolean) => setConsent(deps, subject, give) });
  return (
    <div aria-label={`Writing for you: ${name}`}>
      <p>
        {otherKey
          ? `You let ${name} write records for you with another key than the one shown now: records signed with this key are not covered.`
          : current
            ? `${name} may write records for you.`
            : `${name} may not write records for you.`}
      </p>
      {current ? (
        <Button
          variant="secondary"
          disabled={change.isPending}
          onClick={() => change.mutate(false)}
        >
          Stop {name} writing for me
        </Button>
      ) : null}
      {(!current || otherKey) && blocked ? (
        <p>You cannot let {name} write for you with this key until the numbers match.</p>
      ) : null}
      {(!current || otherKey) && !blocked ? (
        <Button variant="secondary" disabled={change.isPending} onClick={() => change.mutate(true)}>
          Let {name} write records for me
        </Button>
      ) : null}
      {change.isPending ? <p aria-busy="true">Signing…</p> : null}
      {change.isError ? <Banner tone="bad">{describeError(change.error)}</Banner> : null}
    </div>
  );
}
