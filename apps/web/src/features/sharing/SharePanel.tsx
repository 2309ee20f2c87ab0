import { useState, type FormEvent } from 'react';
import { useMutation } from '@tanstack/react-query';
import { describeError } from '../../api/errors';
import type { Person } from '../../app/keyBook';
import { useWorkspace } from '../../app/workspace';
import { Banner, Button, Dialog, Progress, TextField, uiStyles } from '../../ui';
import { canShare } from '../contacts/contactsModel';
import { shareRecords, type ShareManyOutcome } from '../records/recordService';
import { consentsNow, setConsent } from '../consents/consents';
import { KeyVerification } from './KeyVerification';
import { PersonKeyCheck, type KeyCandidate } from './PersonKeyCheck';
import { TeamShare } from './TeamShare';
import { FirstContact } from './FirstContact';
import { useCandidate, usePinBeforeSharing, type ShareTarget } from './candidates';

/** Where the dialog is, once a person was found: their summary, comparing numbers, or the first-contact question. */
type Step = 'person' | { compare: true; thenShare: boolean } | 'first-contact';

/**
 * The share dialog (issue 5, issue 14, DESIGN §6–7, §12): find a person by email, check their key
 * once, share one record or several with one progress bar. A key never seen before is a first
 * contact (issue 10 class 12): "Share" first asks, with comparing numbers as the default action;
 * sharing without comparing is an explicit second choice that keeps the key unverified. A changed
 * key blocks sharing; "They don't match" ends the dialog without sharing and blocks sharing
 * with that key until a later comparison matches (remembered in the account state).
 */
export function SharePanel({
  open,
  target,
  onShared,
  onClose,
}: {
  open: boolean;
  target: ShareTarget;
  onShared(): void;
  onClose(): void;
}) {
  const count = target.recordIds.length;
  return (
    <Dialog
      open={open}
      wide
      title={count === 1 ? 'Share this record' : `Share ${count} records`}
      onClose={onClose}
    >
      <ShareSteps target={target} onShared={onShared} onClose={onClose} />
    </Dialog>
  );
}

function ShareSteps({
  target,
  onShared,
  onClose,
}: {
  target: ShareTarget;
  onShared(): void;
  onClose(): void;
}) {
  const { deps } = useWorkspace();
  const toCandidate = useCandidate();
  const pinBeforeSharing = usePinBeforeSharing();
  const [email, setEmail] = useState('');
  const [person, setPerson] = useState<Person | null>(null);
  const [candidate, setCandidate] = useState<KeyCandidate | null>(null);
  const [notFound, setNotFound] = useState(false);
  const [step, setStep] = useState<Step>('person');
  const [progress, setProgress] = useState<{ done: number; total: number } | null>(null);
  // Consent to write (DESIGN §13): made when a patient first shares with a doctor, ticked by
  // default (docs/decisions.md), always shown and untickable before sharing.
  const [allowWriting, setAllowWriting] = useState(true);
  const offersConsent =
    !!person &&
    deps.me.role === 'patient' &&
    person.role === 'doctor' &&
    !consentsNow(deps.accountState.consents, {
      kind: 'person',
      id: person.id,
      fingerprint: person.fingerprint,
    });
  const count = target.recordIds.length;
  const what = count === 1 ? 'this record' : `these ${count} records`;

  const search = useMutation({
    mutationFn: async (address: string) => {
      const found = await deps.keyBook.findByEmail(address);
      if (!found) return null;
      return { found, candidate: await toCandidate(found) };
    },
    onSuccess: (result) => {
      setNotFound(!result);
      setPerson(result?.found ?? null);
      setCandidate(result?.candidate ?? null);
      setStep('person');
    },
  });

  const share = useMutation({
    mutationFn: async (): Promise<ShareManyOutcome | null> => {
      if (!person || !candidate) return null;
      await pinBeforeSharing(person);
      const outcome = await shareRecords(deps, target.recordIds, person, (done, total) =>
        setProgress({ done, total }),
      );
      if (offersConsent && allowWriting && outcome.shared.length > 0)
        await setConsent(
          deps,
          { kind: 'person', id: person.id, fingerprint: person.fingerprint },
          true,
        );
      return outcome;
    },
    onSuccess: (outcome) => {
      if (outcome && outcome.failed.length === 0 && count === 1) onShared();
    },
  });

  const submit = (event: FormEvent) => {
    event.preventDefault();
    if (email.trim()) search.mutate(email.trim().toLowerCase());
  };

  const verified = async () => {
    if (!person) return;
    const thenShare = typeof step === 'object' && step.thenShare;
    setCandidate(await toCandidate(person));
    setStep('person');
    if (thenShare) share.mutate();
  };

  if (typeof step === 'object' && candidate) {
    return (
      <KeyVerification candidate={candidate} onVerified={() => void verified()} onClose={onClose} />
    );
  }

  const outcome = share.data;
  if (outcome && (count > 1 || outcome.failed.length > 0) && person) {
    return (
      <ShareSummary
        name={person.name}
        outcome={outcome}
        titleOf={target.titleOf}
        onDone={onShared}
      />
    );
  }

  const error = search.error ?? share.error;
  const isMe = person?.id === deps.me.id;
  const alreadyReads = !!person && (target.readers ?? []).includes(person.id);
  return (
    <>
      <p>
        The person you share with gets their own key to {what}. Nothing is stored unencrypted and
        the server never sees the content.
      </p>
      <form onSubmit={submit} role="search" aria-label="Find a person">
        <TextField
          label="Their email address"
          type="email"
          value={email}
          onChange={(e) => setEmail(e.target.value)}
        />
        <div className={uiStyles.row}>
          <Button type="submit" disabled={search.isPending || share.isPending}>
            Find
          </Button>
          <Button variant="secondary" onClick={onClose}>
            Close
          </Button>
        </div>
      </form>
      {error ? <Banner tone="bad">{describeError(error)}</Banner> : null}
      {notFound ? <Banner tone="info">Nobody with that email address uses Medseal.</Banner> : null}
      {isMe ? <Banner tone="info">That is you.</Banner> : null}
      {alreadyReads && person ? (
        <Banner tone="info">{person.name} can already read this record.</Banner>
      ) : null}
      {candidate && person && !isMe && !alreadyReads ? (
        <PersonKeyCheck
          candidate={candidate}
          busy={share.isPending}
          shareLabel={`Share with ${person.name}`}
          onCompare={() => setStep({ compare: true, thenShare: false })}
          onShare={() =>
            candidate.state.status === 'new' ? setStep('first-contact') : share.mutate()
          }
        />
      ) : null}
      {offersConsent &&
      candidate &&
      canShare(candidate.state) &&
      person &&
      !isMe &&
      !alreadyReads ? (
        <label>
          <input
            type="checkbox"
            checked={allowWriting}
            disabled={share.isPending}
            onChange={(e) => setAllowWriting(e.target.checked)}
          />{' '}
          {person.name} may also write records for you
        </label>
      ) : null}
      {step === 'first-contact' && candidate?.state.status === 'new' && person ? (
        <FirstContact
          name={person.name}
          what={what}
          busy={share.isPending}
          onCompare={() => setStep({ compare: true, thenShare: true })}
          onProceed={() => {
            setStep('person');
            share.mutate();
          }}
          onCancel={() => setStep('person')}
        />
      ) : null}
      {share.isPending ? (
        <div aria-busy="true">
          <Progress
            label={
              progress && progress.total > 1
                ? `Sharing ${progress.done} of ${progress.total} records`
                : 'Sharing'
            }
            value={progress && progress.total > 0 ? progress.done / progress.total : null}
          />
        </div>
      ) : null}
      {person ? null : <TeamShare target={target} onShared={onShared} onClose={onClose} />}
    </>
  );
}

/** After sharing several records (or a failure): what was shared, what was not and why. */
function ShareSummary({
  name,
  outcome,
  titleOf,
  onDone,
}: {
  name: string;
  outcome: ShareManyOutcome;
  titleOf: ShareTarget['titleOf'];
  onDone(): void;
}) {
  const n = (k: number) => (k === 1 ? '1 record' : `${k} records`);
  return (
    <>
      {outcome.shared.length > 0 ? (
        <Banner tone="ok">
          Shared {n(outcome.shared.length)} with {name}.
        </Banner>
      ) : null}
      {outcome.already.length > 0 ? (
        <p>
          {name} could already read {n(outcome.already.length)}.
        </p>
      ) : null}
      {outcome.failed.length > 0 ? (
        <Banner tone="bad" title={`${n(outcome.failed.length)} not shared.`}>
          <ul>
            {outcome.failed.map((f) => (
              <li key={f.recordId}>
                {titleOf?.(f.recordId) ?? 'A record'}: {describeError(f.error)}
              </li>
            ))}
          </ul>
        </Banner>
      ) : null}
      <Button onClick={onDone}>Done</Button>
    </>
  );
}
