import { Badge, Banner, Button } from '../../ui';
import { canShare, type DirectoryPerson, type PinState } from '../contacts/contactsModel';
import styles from './sharing.module.css';

export interface KeyCandidate {
  person: DirectoryPerson;
  /** Computed in this browser from the key the directory returned (never the server's string). */
  fingerprint: string;
  safetyNumber: string;
  /** The QR code this screen shows, for them to scan (our fingerprint first). */
  qrPayload: string;
  /** The QR code their screen shows (theirs first): the only scan that verifies. */
  theirQrPayload: string;
  state: PinState;
}

/** "Verified" only for a key the user compared (DESIGN §12 "Keys"); plain words for the rest. */
export function PinBadge({ state }: { state: PinState }) {
  switch (state.status) {
    case 'new':
      return <Badge tone="warn">Not checked yet</Badge>;
    case 'pinned':
      return <Badge tone="warn">Not checked</Badge>;
    case 'verified':
      return <Badge tone="ok">Verified</Badge>;
    case 'changed':
      return <Badge tone="bad">Key changed</Badge>;
    case 'mismatch':
      return <Badge tone="bad">Numbers did not match</Badge>;
  }
}

/**
 * A person in the sharing and contacts screens: who, whether their key was checked, a way to
 * compare numbers with them (the verification screen), and sharing, which a changed key or a
 * remembered "They don't match" blocks until the numbers were compared again (DESIGN §7).
 */
export function PersonKeyCheck({
  candidate,
  busy,
  shareLabel = 'Share',
  onCompare,
  onShare,
}: {
  candidate: KeyCandidate;
  busy?: boolean;
  shareLabel?: string;
  onCompare(): void;
  onShare?: () => void;
}) {
  const { person, state } = candidate;
  const verified = state.status === 'verified';
  return (
    <div data-testid="key-check">
      <div className={styles.person}>
        <strong>{person.name}</strong>
        <Badge>{person.role}</Badge>
        <PinBadge state={state} />
      </div>
      {state.status === 'changed' ? (
        <Banner tone="bad" title={`${person.name}’s key has changed. Sharing is blocked.`}>
          The key the server now gives for {person.name} is not the one you had. That happens when
          someone sets up their account again — or when someone tries to read your records by
          swapping keys. Compare the numbers with {person.name} in person or on a call before you
          share.
        </Banner>
      ) : null}
      {state.status === 'mismatch' ? (
        <Banner tone="bad" title="Numbers did not match. Sharing is blocked.">
          When you compared numbers with {person.name}, they were not the same. Compare them again,
          in person or on a call you started; sharing opens once they match.
        </Banner>
      ) : null}
      {state.status === 'new' && onShare ? (
        <p>
          You have not compared numbers with {person.name} yet. Comparing makes sure only{' '}
          {person.name} can read what you share.
        </p>
      ) : null}
      <div className={styles.row}>
        {onShare ? (
          <Button
            variant={verified ? 'primary' : 'secondary'}
            onClick={onShare}
            disabled={busy || !canShare(state)}
          >
            {shareLabel}
          </Button>
        ) : null}
        {verified ? (
          <Button variant="link" onClick={onCompare} disabled={busy}>
            Compare numbers again
          </Button>
        ) : (
          <Button variant={onShare ? 'secondary' : 'primary'} onClick={onCompare} disabled={busy}>
            Compare numbers with {person.name}
          </Button>
        )}
      </div>
    </div>
  );
}
