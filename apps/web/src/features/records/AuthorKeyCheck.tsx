import { useState } from 'react';
import { useMutation, useQuery } from '@tanstack/react-query';
import { describeError } from '../../api/errors';
import type { Person } from '../../app/keyBook';
import { useWorkspace } from '../../app/workspace';
import { Banner, Button } from '../../ui';
import { markVerified } from '../contacts/contactsModel';
import { PersonKeyCheck } from '../sharing/PersonKeyCheck';
import { useCandidate } from '../sharing/SharePanel';

/**
 * The explicit first-contact step for a record's signer (DESIGN §12 "Keys", issue 10 class 6):
 * a key seen for the first time is not pinned silently; the user compares it and marks it
 * verified here, or leaves it unverified (and the record keeps saying so).
 */
export function AuthorKeyCheck({ author }: { author: Person }) {
  const { contacts } = useWorkspace();
  const toCandidate = useCandidate();
  const [open, setOpen] = useState(false);
  const candidate = useQuery({ queryKey: ['candidate', author.id, author.fingerprint, contacts.loaded.version], queryFn: () => toCandidate(author), enabled: open });
  const verify = useMutation({
    mutationFn: () => contacts.update((doc) => markVerified(doc, { id: author.id, name: author.name, role: author.role }, author.fingerprint, new Date())),
  });
  if (!open) {
    return (
      <Button variant="secondary" onClick={() => setOpen(true)}>
        Compare this key with {author.name}…
      </Button>
    );
  }
  return (
    <section aria-label={`Key check for ${author.name}`}>
      {candidate.isPending ? <p aria-busy="true">Computing the safety number…</p> : null}
      {candidate.isError ? <Banner tone="bad">{describeError(candidate.error)}</Banner> : null}
      {candidate.data ? <PersonKeyCheck candidate={candidate.data} busy={verify.isPending} onMarkVerified={() => verify.mutate()} /> : null}
      {verify.isError ? <Banner tone="bad">{describeError(verify.error)}</Banner> : null}
    </section>
  );
}
