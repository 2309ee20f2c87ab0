import { useState, useSyncExternalStore } from 'react';
import { useMutation, useQuery } from '@tanstack/react-query';
import { describeError } from '../../api/errors';
import { PageHead } from '../../app/PageHead';
import { useWorkspace } from '../../app/workspace';
import { Banner, Button, Card } from '../../ui';
import { consentTo, setConsent } from '../consents/consents';
import { CompareDialog } from '../sharing/KeyVerification';
import { useCandidate } from '../sharing/SharePanel';
import { PersonKeyCheck } from '../sharing/PersonKeyCheck';
import type { Contact } from './contactsModel';

/** The people I shared with or whose records I read, whether I compared numbers with them, and key changes (DESIGN §7). */
export function ContactsPage() {
  const { contacts } = useWorkspace();
  const list = Object.values(contacts.loaded?.doc.contacts ?? {}).sort((a, b) => a.name.localeCompare(b.name));
  return (
    <>
      <PageHead title="Contacts" />
      <p>
        People you shared with. Compare numbers with each of them once, in person or on a call, so that only they can read what you share. This list is locked with your key, so
        the server cannot change it.
      </p>
      {contacts.error ? <Banner tone="bad">{describeError(contacts.error)}</Banner> : null}
      {list.length === 0 ? <Banner tone="info">No contacts yet. They are added when you share a record.</Banner> : null}
      {list.map((c) => (
        <ContactCard key={c.userId} contact={c} />
      ))}
    </>
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
  });
  return (
    <Card>
      {candidate.isPending ? <p aria-busy="true">Checking {contact.name}’s key…</p> : null}
      {candidate.isError ? <Banner tone="bad">{describeError(candidate.error)}</Banner> : null}
      {candidate.data ? <PersonKeyCheck candidate={candidate.data} onCompare={() => setComparing(true)} /> : null}
      <CompareDialog open={comparing} candidate={candidate.data} onClose={() => setComparing(false)} />
      {deps.me.role === 'patient' && contact.role === 'doctor' && candidate.data ? <WritingConsent name={contact.name} doctor={{ id: contact.userId, fingerprint: candidate.data.fingerprint }} /> : null}
    </Card>
  );
}

/**
 * Consent to write (DESIGN §13): whether this doctor may write records for me, from my signed
 * account state, and the one action that changes it.
 */
function WritingConsent({ name, doctor }: { name: string; doctor: { id: string; fingerprint: string } }) {
  const { deps } = useWorkspace();
  const consents = useSyncExternalStore(
    (listener) => deps.accountState.subscribe(listener),
    () => deps.accountState.consents,
  );
  const latest = consentTo(consents, doctor.id);
  const current = !!latest && latest.withdrawnAt === undefined;
  const otherKey = current && latest.fingerprint !== doctor.fingerprint;
  const change = useMutation({ mutationFn: (give: boolean) => setConsent(deps, doctor, give) });
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
        <Button variant="secondary" disabled={change.isPending} onClick={() => change.mutate(false)}>
          Stop {name} writing for me
        </Button>
      ) : null}
      {!current || otherKey ? (
        <Button variant="secondary" disabled={change.isPending} onClick={() => change.mutate(true)}>
          Let {name} write records for me
        </Button>
      ) : null}
      {change.isPending ? <p aria-busy="true">Signing…</p> : null}
      {change.isError ? <Banner tone="bad">{describeError(change.error)}</Banner> : null}
    </div>
  );
}
