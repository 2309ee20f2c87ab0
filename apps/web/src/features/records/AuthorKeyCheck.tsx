import { useState } from 'react';
import { useQuery } from '@tanstack/react-query';
import { describeError } from '../../api/errors';
import type { Person } from '../../app/keyBook';
import { useWorkspace } from '../../app/workspace';
import { Banner, Button } from '../../ui';
import { CompareDialog } from '../sharing/KeyVerification';
import { useCandidate } from '../sharing/candidates';

/**
 * The explicit first-contact step for a record's signer (DESIGN §12 "Keys", issue 10 class 6):
 * a key seen for the first time is not pinned silently; the user compares numbers with the
 * signer on the verification screen, or leaves the key unverified (and the record says so).
 */
export function AuthorKeyCheck({ author }: { author: Person }) {
  const { contacts, deps } = useWorkspace();
  const toCandidate = useCandidate();
  const [open, setOpen] = useState(false);
  const candidate = useQuery({
    queryKey: ['candidate', author.id, author.fingerprint, contacts.loaded.version],
    // Named as everywhere in the app (the pinned name: useCandidate), also on the comparison screen.
    queryFn: () => toCandidate(author),
    enabled: open,
  });
  return (
    <>
      <Button variant="secondary" onClick={() => setOpen(true)}>
        Compare numbers with {deps.accountState.nameOf(author.id, author.name)}
      </Button>
      {open && candidate.isPending ? <p aria-busy="true">Working out the numbers…</p> : null}
      {candidate.isError ? <Banner tone="bad">{describeError(candidate.error)}</Banner> : null}
      <CompareDialog open={open} candidate={candidate.data} onClose={() => setOpen(false)} />
    </>
  );
}
