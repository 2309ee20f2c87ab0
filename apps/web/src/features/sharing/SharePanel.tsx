import { useState, type FormEvent } from 'react';
import { useMutation } from '@tanstack/react-query';
import { describeError } from '../../api/errors';
import type { Person } from '../../app/keyBook';
import { useWorkspace } from '../../app/workspace';
import { Banner, Button, TextField } from '../../ui';
import { markVerified, pin, pinStateOf } from '../contacts/contactsModel';
import { shareRecord, type VerifiedRecord } from '../records/recordService';
import { PersonKeyCheck, type KeyCandidate } from './PersonKeyCheck';
import { TeamShare } from './TeamShare';

/** Builds the key check for a person: local fingerprint, safety number, QR payload, pin state. */
export function useCandidate() {
  const { deps, contacts } = useWorkspace();
  return async (person: Person): Promise<KeyCandidate> => {
    const [safetyNumber, qrPayload] = await Promise.all([deps.crypto.safetyNumber(deps.key.fingerprint, person.fingerprint), deps.crypto.safetyNumberQrPayload(deps.key.fingerprint, person.fingerprint)]);
    return {
      person: { id: person.id, name: person.name, role: person.role },
      fingerprint: person.fingerprint,
      safetyNumber,
      qrPayload,
      state: pinStateOf(contacts.loaded?.doc ?? { v: 1, contacts: {} }, person.id, person.fingerprint),
    };
  };
}

/**
 * The share dialog (issue 5, DESIGN §6–7, §12): find a person by email, check their key, share.
 * A key never seen before is a first contact (issue 10 class 12): "Share" first asks, with
 * comparing the key as the default action; sharing without verifying is an explicit second
 * choice that pins the key unverified. A changed key blocks sharing.
 */
export function SharePanel({ record, onShared, onClose }: { record: VerifiedRecord; onShared(): void; onClose(): void }) {
  const { deps, contacts } = useWorkspace();
  const toCandidate = useCandidate();
  const [email, setEmail] = useState('');
  const [person, setPerson] = useState<Person | null>(null);
  const [candidate, setCandidate] = useState<KeyCandidate | null>(null);
  const [notFound, setNotFound] = useState(false);
  const [firstContact, setFirstContact] = useState(false);

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
      setFirstContact(false);
    },
  });

  const refresh = async (p: Person, change: Parameters<typeof contacts.update>[0]) => {
    await contacts.update(change);
    const next = await toCandidate(p);
    // The update above changed the pins; recompute the state from the saved list.
    setCandidate({ ...next, state: pinStateOf(change(contacts.loaded?.doc ?? { v: 1, contacts: {} }), p.id, p.fingerprint) });
  };

  const verify = useMutation({
    mutationFn: async () => {
      if (!person) return;
      await refresh(person, (doc) => markVerified(doc, { id: person.id, name: person.name, role: person.role }, person.fingerprint, new Date()));
    },
  });

  const share = useMutation({
    mutationFn: async () => {
      if (!person || !candidate) return;
      if (candidate.state.status === 'changed') throw new Error('Sharing is blocked until you verify the new key.');
      if (candidate.state.status === 'new') await refresh(person, (doc) => pin(doc, { id: person.id, name: person.name, role: person.role }, person.fingerprint, new Date()));
      await shareRecord(deps, record, person);
    },
    onSuccess: onShared,
  });

  const submit = (event: FormEvent) => {
    event.preventDefault();
    if (email.trim()) search.mutate(email.trim().toLowerCase());
  };

  const error = search.error ?? verify.error ?? share.error;
  return (
    <section role="dialog" aria-labelledby="share-title" aria-modal="false">
      <h2 id="share-title">Share this record</h2>
      <p>The person you share with gets their own key to this record. Nothing is re-encrypted and the server never sees the content.</p>
      <form onSubmit={submit} role="search" aria-label="Find a person">
        <TextField label="Their email address" type="email" value={email} onChange={(e) => setEmail(e.target.value)} />
        <div style={{ display: 'flex', gap: 10, flexWrap: 'wrap' }}>
          <Button type="submit" disabled={search.isPending}>
            Find
          </Button>
          <Button variant="secondary" onClick={onClose}>
            Close
          </Button>
        </div>
      </form>
      {error ? <Banner tone="bad">{describeError(error)}</Banner> : null}
      {notFound ? <Banner tone="info">Nobody with that email address uses Medseal.</Banner> : null}
      {person?.id === deps.me.id ? <Banner tone="info">That is you.</Banner> : null}
      {candidate && person && person.id !== deps.me.id ? (
        record.dto.recipients.some((r) => r.userId === person.id) ? (
          <Banner tone="info">{person.name} can already read this record.</Banner>
        ) : (
          <PersonKeyCheck
            candidate={candidate}
            busy={verify.isPending || share.isPending}
            shareLabel={`Share with ${person.name}`}
            onMarkVerified={() => verify.mutate()}
            onShare={() => (candidate.state.status === 'new' ? setFirstContact(true) : share.mutate())}
          />
        )
      ) : null}
      {firstContact && candidate?.state.status === 'new' && person ? (
        <FirstContact name={person.name} busy={verify.isPending || share.isPending} onVerifyAndShare={() => void verify.mutateAsync().then(() => share.mutate(), () => undefined)} onShareUnverified={() => share.mutate()} onCancel={() => setFirstContact(false)} />
      ) : null}
      {share.isPending ? <p aria-live="polite">Sharing…</p> : null}
      <TeamShare record={record} onShared={onShared} />
    </section>
  );
}

/**
 * The first-contact step: nobody compared this key yet. Comparing is the default (focused)
 * action; sharing without it is possible but never the default (DESIGN §12 "Keys").
 */
function FirstContact({ name, busy, onVerifyAndShare, onShareUnverified, onCancel }: { name: string; busy: boolean; onVerifyAndShare(): void; onShareUnverified(): void; onCancel(): void }) {
  return (
    <div aria-labelledby="first-contact-title">
      <h3 id="first-contact-title">First time sharing with this key</h3>
      <p>
        Nobody has compared this key with {name} yet. If the server gave you someone else’s key, that person could read this record. Compare the fingerprint or the safety
        number above with {name} — in person or on a call you started — before you share.
      </p>
      <div style={{ display: 'flex', gap: 10, flexWrap: 'wrap' }}>
        {/* Focused: the safe choice is the one Enter picks. */}
        <Button autoFocus disabled={busy} onClick={onVerifyAndShare}>
          I compared them — verify and share
        </Button>
        <Button variant="secondary" disabled={busy} onClick={onShareUnverified}>
          Share without verifying
        </Button>
        <Button variant="link" disabled={busy} onClick={onCancel}>
          Cancel
        </Button>
      </div>
    </div>
  );
}
