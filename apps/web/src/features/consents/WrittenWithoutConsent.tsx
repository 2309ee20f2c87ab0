import { formatDateTime } from '../../app/dates';
import { Banner } from '../../ui';
import type { RecordConsent } from './consents';

/** The one note per consent status of a record someone else signed for me (STYLE.md §20). */
export function ConsentNote({
  authorName,
  consent,
}: {
  authorName: string;
  consent: RecordConsent;
}) {
  switch (consent.status) {
    case 'consented':
      return null;
    case 'none':
      return <WrittenWithoutConsent authorName={authorName} />;
    case 'withdrawn':
      return <WrittenBeforeWithdrawal authorName={authorName} withdrawnAt={consent.withdrawnAt} />;
  }
}

/**
 * A record by someone whose consent I withdrew, which says it was signed before: the signing
 * date is the author's own, so Medseal does not call it consented (docs/decisions.md).
 */
function WrittenBeforeWithdrawal({
  authorName,
  withdrawnAt,
}: {
  authorName: string;
  withdrawnAt: string;
}) {
  return (
    <Banner
      tone="info"
      title={`You withdrew your consent for ${authorName} to write for you on ${formatDateTime(withdrawnAt)}.`}
    >
      This record says it was signed before that, but its date is the one {authorName}’s device
      chose: Medseal cannot confirm it was written while you consented.
    </Banner>
  );
}

/**
 * Shown on a record in my list that someone else signed while no consent of mine let them
 * write for me with that key (DESIGN §13, issue 10 class 11): a self-declared doctor, a key the
 * server swapped in, or a consent I had withdrawn.
 */
function WrittenWithoutConsent({ authorName }: { authorName: string }) {
  return (
    <Banner
      tone="warn"
      title={`Written without your consent: no consent of yours lets ${authorName} write records for you with this key.`}
    >
      Medseal never offers {authorName} as a reader of other people’s notes because of this record.
      If you know {authorName} treats you, you can let them write for you on your Contacts page
      after checking their key; otherwise tell someone you trust, and do not act on this record.
    </Banner>
  );
}
