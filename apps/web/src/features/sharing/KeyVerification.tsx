import { useState } from 'react';
import { useMutation } from '@tanstack/react-query';
import { describeError } from '../../api/errors';
import { useWorkspace } from '../../app/workspace';
import { Banner, Button, Dialog } from '../../ui';
import { markMismatch, markVerified } from '../contacts/contactsModel';
import { FingerprintView, QrCode, SafetyNumberView } from './Fingerprint';
import type { KeyCandidate } from './PersonKeyCheck';
import { QrScanner } from './QrScanner';
import { judgeScan } from './qrScan';
import styles from './sharing.module.css';

/** What to do next when a scanned code verifies nothing and says nothing against the key. */
const SCAN_NOTES: Record<
  'own-code' | 'other-version' | 'not-a-safety-code',
  (name: string) => string
> = {
  'own-code': (name) =>
    `That is the code on your own screen, so it proves nothing. Scan the code on ${name}’s screen.`,
  'other-version': (name) =>
    `That code comes from another version of Medseal. Ask ${name} to reload Medseal and show the code again, or compare the numbers.`,
  'not-a-safety-code': () =>
    'That code is not a Medseal safety code. Scan the code Medseal shows on their screen when they compare keys with you.',
};

type Step =
  | { kind: 'compare'; note?: string }
  | { kind: 'scanning' }
  | { kind: 'mismatch'; how: 'said' | 'scanned' };

/**
 * The one verification screen (issue 14, like Signal's safety number): the 60 digits both sides
 * compute for the pair of keys, and a QR code to scan; two plain choices. "They match" (or a
 * scanned code equal to the one their screen shows, never our own) marks the key verified —
 * the only way a key becomes "Verified" (DESIGN §12 "Keys"). "They don't match" shares nothing,
 * is remembered for this key in the signed account state (sharing with it stays blocked until a
 * comparison matches), and says what to do. The 40-hex fingerprints are one click away under
 * "Details".
 */
export function KeyVerification({
  candidate,
  onVerified,
  onClose,
}: {
  candidate: KeyCandidate;
  onVerified(): void;
  onClose(): void;
}) {
  const { deps, contacts } = useWorkspace();
  const { person, state } = candidate;
  const [step, setStep] = useState<Step>({ kind: 'compare' });
  const verify = useMutation({
    mutationFn: () =>
      contacts.update((doc) => markVerified(doc, person, candidate.fingerprint, new Date())),
    onSuccess: onVerified,
  });
  const mismatch = useMutation({
    mutationFn: (how: 'said' | 'scanned') =>
      contacts
        .update((doc) => markMismatch(doc, person, candidate.fingerprint, new Date()))
        .then(() => how),
    onSuccess: (how) => setStep({ kind: 'mismatch', how }),
  });

  const scanned = (text: string) => {
    const verdict = judgeScan(text, {
      theirs: candidate.theirQrPayload,
      ours: candidate.qrPayload,
    });
    if (verdict === 'match') {
      setStep({ kind: 'compare', note: `The code on ${person.name}’s screen matches.` });
      verify.mutate();
    } else if (verdict === 'mismatch') mismatch.mutate('scanned');
    else setStep({ kind: 'compare', note: SCAN_NOTES[verdict](person.name) });
  };

  if (step.kind === 'mismatch')
    return <Mismatch name={person.name} how={step.how} onClose={onClose} />;

  return (
    <div className={styles.verification} data-testid="key-verification">
      {state.status === 'mismatch' ? (
        <Banner tone="bad" title={`Last time you compared, the numbers did not match.`}>
          Sharing with {person.name} stays blocked until you compare again and the numbers match.
        </Banner>
      ) : null}
      {state.status === 'changed' ? (
        <Banner tone="bad" title={`${person.name}’s key has changed since you last shared.`}>
          That happens when someone sets up Medseal again on a new account key — or when someone
          tries to read your records by swapping keys. Compare the numbers again before sharing.
        </Banner>
      ) : null}
      <p className={styles.lead}>
        Compare these numbers with {person.name}, in person or on a call you started. {person.name}{' '}
        sees the same numbers when they compare with you in Medseal.
      </p>
      <SafetyNumberView digits={candidate.safetyNumber} />
      {step.kind === 'scanning' ? (
        <QrScanner onCode={scanned} onStop={() => setStep({ kind: 'compare' })} />
      ) : (
        <div className={styles.qrRow}>
          <QrCode
            payload={candidate.qrPayload}
            label={`QR code of the numbers for you and ${person.name}`}
          />
          <div>
            <p>Or let one of you scan the other’s code.</p>
            <Button variant="secondary" onClick={() => setStep({ kind: 'scanning' })}>
              Scan their code
            </Button>
          </div>
        </div>
      )}
      {step.kind === 'compare' && step.note ? <Banner tone="info">{step.note}</Banner> : null}
      {verify.isError || mismatch.isError ? (
        <Banner tone="bad">{describeError(verify.error ?? mismatch.error)}</Banner>
      ) : null}
      <div className={styles.choices}>
        <Button
          className={styles.choice}
          disabled={verify.isPending || mismatch.isPending}
          onClick={() => verify.mutate()}
        >
          They match
        </Button>
        <Button
          className={styles.choice}
          variant="danger"
          disabled={verify.isPending || mismatch.isPending}
          onClick={() => mismatch.mutate('said')}
        >
          They don’t match
        </Button>
      </div>
      <details className={styles.details}>
        <summary>Details</summary>
        <p>
          The numbers are made from both people’s key fingerprints. A fingerprint identifies one
          key; these are computed on this device from the keys the server sent.
        </p>
        <h3>{person.name}’s key fingerprint</h3>
        <FingerprintView fingerprint={candidate.fingerprint} label="Their key fingerprint" />
        <h3>Your key fingerprint</h3>
        <FingerprintView fingerprint={deps.key.fingerprint} label="Your key fingerprint" />
        {state.status === 'changed' ? (
          <>
            <h3>The key you had for {person.name} before</h3>
            <FingerprintView
              fingerprint={state.contact.fingerprint}
              label="Previous key fingerprint"
            />
          </>
        ) : null}
      </details>
    </div>
  );
}

/** The verification screen on its own (contacts, a record's signer); closes once verified. */
export function CompareDialog({
  candidate,
  open,
  onVerified,
  onClose,
}: {
  candidate: KeyCandidate | undefined;
  open: boolean;
  /** After "They match" (a matching scan); closing is left to it. Default: `onClose`. */
  onVerified?: () => void;
  onClose(): void;
}) {
  return (
    <Dialog
      open={open && !!candidate}
      wide
      title={`Compare numbers with ${candidate?.person.name ?? ''}`}
      onClose={onClose}
    >
      {candidate ? (
        <KeyVerification
          candidate={candidate}
          onVerified={onVerified ?? onClose}
          onClose={onClose}
        />
      ) : null}
    </Dialog>
  );
}

/**
 * "They don't match": nothing is shared and sharing with this key stays blocked (remembered);
 * the person is told plainly why that matters and what to do next. The only way on is to close.
 */
function Mismatch({
  name,
  how,
  onClose,
}: {
  name: string;
  how: 'said' | 'scanned';
  onClose(): void;
}) {
  return (
    <div className={styles.verification} data-testid="key-mismatch">
      <Banner tone="bad" title={`Do not share with ${name} for now.`}>
        <p>
          {how === 'scanned'
            ? `The code on ${name}’s screen is not the one Medseal computed here.`
            : 'The numbers are not the same on both screens.'}{' '}
          So the key Medseal was given for {name}, or the one {name} was given for you, may not be
          the real one: someone could be trying to read what you share.
        </p>
        <p>
          Nothing was shared. Medseal remembers this on all your devices: sharing with {name} stays
          blocked until you compare the numbers again and they match.
        </p>
      </Banner>
      <h3>What to do</h3>
      <ol>
        <li>Ask {name} to check they are signed in to Medseal with the email address you know.</li>
        <li>Compare the numbers again, in person or on a call you started yourself.</li>
        <li>
          If they still differ, do not share with this account. Tell {name} through their practice
          or another way you trust.
        </li>
      </ol>
      <Button variant="secondary" onClick={onClose} autoFocus>
        Close
      </Button>
    </div>
  );
}
