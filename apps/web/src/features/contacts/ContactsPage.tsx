import { useMutation, useQuery } from '@tanstack/react-query';
import { describeError } from '../../api/errors';
import { PageHead } from '../../app/PageHead';
import { useWorkspace } from '../../app/workspace';
import { Banner, Card } from '../../ui';
import { useCandidate } from '../sharing/SharePanel';
import { PersonKeyCheck } from '../sharing/PersonKeyCheck';
import { markVerified, type Contact } from './contactsModel';

/** Pinned people, their verification state, and key-change alerts (DESIGN §7). */
export function ContactsPage() {
  const { contacts } = useWorkspace();
  const list = Object.values(contacts.loaded?.doc.contacts ?? {}).sort((a, b) => a.name.localeCompare(b.name));
  return (
    <>
      <PageHead title="Contacts" />
      <p>
        People you shared with. Their keys are pinned the first time; compare the fingerprint or safety number with them and mark them verified. Your list is encrypted and signed by
        you, so the server cannot change it.
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
  const candidate = useQuery({
    queryKey: ['candidate', contact.userId, contacts.loaded?.version],
    queryFn: async () => {
      deps.keyBook.refresh(contact.userId);
      return toCandidate(await deps.keyBook.get(contact.userId));
    },
  });
  const verify = useMutation({
    mutationFn: async () => {
      const c = candidate.data;
      if (!c) return;
      await contacts.update((doc) => markVerified(doc, c.person, c.fingerprint, new Date()));
    },
  });
  return (
    <Card>
      {candidate.isPending ? <p aria-busy="true">Checking {contact.name}’s key…</p> : null}
      {candidate.isError ? <Banner tone="bad">{describeError(candidate.error)}</Banner> : null}
      {candidate.data ? <PersonKeyCheck candidate={candidate.data} busy={verify.isPending} onMarkVerified={() => verify.mutate()} /> : null}
      {verify.isError ? <Banner tone="bad">{describeError(verify.error)}</Banner> : null}
    </Card>
  );
}
