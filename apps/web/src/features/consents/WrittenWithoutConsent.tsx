import { Banner } from '../../ui';

/**
 * Shown on a record in my list that someone else signed while no consent of mine let them
 * write for me with that key (DESIGN §13, issue 10 class 11): a self-declared doctor, a key the
 * server swapped in, or a consent I had withdrawn.
 */
export function WrittenWithoutConsent({ authorName }: { authorName: string }) {
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
