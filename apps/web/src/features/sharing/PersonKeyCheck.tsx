import { Badge, Banner, Button } from '../../ui';
import { canShare, type DirectoryPerson, type PinState } from '../contacts/contactsModel';
import { FingerprintView, QrCode, SafetyNumberView } from './Fingerprint';
import styles from './sharing.module.css';

export interface KeyCandidate {
  person: DirectoryPerson;
  /** Computed in this browser from the key the directory returned (never the server's string). */
  fingerprint: string;
  safetyNumber: string;
  qrPayload: string;
  state: PinState;
}

export function PinBadge({ state }: { state: PinState }) {
  switch (state.status) {
    case 'new':
      return <Badge tone="warn">New — not verified</Badge>;
    case 'pinned':
      return <Badge tone="warn">Unverified</Badge>;
    case 'verified':
      return <Badge tone="ok">Verified</Badge>;
    case 'changed':
      return <Badge tone="bad">Key changed</Badge>;
  }
}

/**
 * The key check in the sharing UI (DESIGN §7): who, their fingerprint computed locally, the
 * safety number and QR code for the pair, the pin state; a changed key blocks sharing until
 * the user compares again and verifies.
 */
export function PersonKeyCheck({ candidate, busy, shareLabel = 'Share', onMarkVerified, onShare }: { candidate: KeyCandidate; busy?: boolean; shareLabel?: string; onMarkVerified(): void; onShare?: () => void }) {
  const { person, fingerprint, state } = candidate;
  return (
    <div data-testid="key-check">
      <div className={styles.person}>
        <strong>{person.name}</strong>
        <Badge>{person.role}</Badge>
        <PinBadge state={state} />
      </div>
      {state.status === 'changed' ? (
        <Banner tone="bad" title={`${person.name}’s key has changed. Sharing is blocked.`}>
          The key the server now gives for {person.name} is not the one you pinned. That happens when someone resets their account — or when someone tries to read your records by
          swapping keys. Compare the new fingerprint or safety number with {person.name} in person or by phone before you verify it.
          <FingerprintView fingerprint={state.contact.fingerprint} label="Previously pinned fingerprint" />
        </Banner>
      ) : null}
      <div className={styles.compare}>
        <div>
          <h3>Their key fingerprint</h3>
          <FingerprintView fingerprint={fingerprint} />
          <h3>Safety number for you two</h3>
          <SafetyNumberView digits={candidate.safetyNumber} />
          <p>
            Compare these with what {person.name} sees on their device, or scan the code. If they match, mark the key as verified.
          </p>
        </div>
        <QrCode payload={candidate.qrPayload} label={`QR code of the safety number with ${person.name}`} />
      </div>
      <div className="row" style={{ display: 'flex', gap: 10, flexWrap: 'wrap' }}>
        {state.status !== 'verified' ? (
          <Button onClick={onMarkVerified} disabled={busy}>
            {state.status === 'changed' ? 'I compared the new key — verify it' : 'Mark as verified'}
          </Button>
        ) : null}
        {onShare ? (
          <Button variant={state.status === 'verified' ? 'primary' : 'secondary'} onClick={onShare} disabled={busy || !canShare(state)}>
            {shareLabel}
          </Button>
        ) : null}
      </div>
      {state.status === 'new' && onShare ? <p>You have not compared this key yet: compare it first, then mark it as verified.</p> : null}
    </div>
  );
}
