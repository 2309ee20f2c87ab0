import { z } from 'zod';
import type { PinnedKey, UserId } from '@medseal/crypto';

/**
 * The pinned-contacts list (DESIGN §7: trust on first use, mark verified, key change blocks
 * sharing). Stored on the server only as a message encrypted to and signed by its owner, so
 * it syncs across devices but the server cannot read or edit it. Versioned (STYLE.md §12).
 */
const fingerprint = z.string().regex(/^[0-9a-f]{40}$/);

export const contactSchema = z.object({
  userId: z.string().min(1),
  name: z.string(),
  role: z.enum(['patient', 'doctor']),
  fingerprint,
  verified: z.boolean(),
  pinnedAt: z.string(),
  verifiedAt: z.string().optional(),
  /** Fingerprints this contact had before (kept to explain changes). */
  previous: z.array(fingerprint).default([]),
  /** "They don't match" was said for this key of theirs: sharing with it stays blocked until a comparison matches. */
  mismatch: z.object({ fingerprint, at: z.string() }).optional(),
});
export type Contact = z.infer<typeof contactSchema>;

export const contactsDocSchema = z.object({
  v: z.literal(1),
  contacts: z.record(z.string(), contactSchema),
});
export type ContactsDoc = z.infer<typeof contactsDocSchema>;

export const EMPTY_CONTACTS: ContactsDoc = { v: 1, contacts: {} };

/** Reads a decrypted contacts document; throws on an unknown format version. */
export function parseContactsDoc(json: unknown): ContactsDoc {
  if (typeof json === 'object' && json !== null && 'v' in json && json.v !== 1)
    throw new Error(`unknown contacts format version ${String(json.v)}`);
  return contactsDocSchema.parse(json);
}

/** The contacts as the account state stores them (DESIGN §12). */
export function pinsOf(doc: ContactsDoc): PinnedKey[] {
  return Object.values(doc.contacts).map(({ mismatch, ...c }) => ({
    ...c,
    userId: c.userId as UserId,
    fingerprint: c.fingerprint as PinnedKey['fingerprint'],
    previous: c.previous as PinnedKey['previous'],
    ...(mismatch
      ? {
          mismatch: {
            fingerprint: mismatch.fingerprint as PinnedKey['fingerprint'],
            at: mismatch.at,
          },
        }
      : {}),
  }));
}

/** The pins as the contacts model reads them (`deps.accountState.pins` for the pins as they are now). */
export function contactsOf(pins: readonly PinnedKey[]): ContactsDoc {
  return {
    v: 1,
    contacts: Object.fromEntries(pins.map((p) => [p.userId, contactSchema.parse(p)])),
  };
}

export interface DirectoryPerson {
  id: string;
  name: string;
  role: 'patient' | 'doctor';
}

/** How a person's current key relates to what we pinned. */
export type PinState =
  | { status: 'new' }
  | { status: 'pinned'; contact: Contact }
  | { status: 'verified'; contact: Contact }
  | { status: 'changed'; contact: Contact; newFingerprint: string }
  /** The user compared numbers for this very key and said they do not match. */
  | { status: 'mismatch'; contact: Contact };

export function pinStateOf(doc: ContactsDoc, userId: string, currentFingerprint: string): PinState {
  const contact = doc.contacts[userId];
  if (!contact) return { status: 'new' };
  // Remembered for this key only: another key (they set up again) is a change to compare anew.
  if (contact.mismatch?.fingerprint === currentFingerprint) return { status: 'mismatch', contact };
  if (contact.fingerprint !== currentFingerprint)
    return { status: 'changed', contact, newFingerprint: currentFingerprint };
  return contact.verified ? { status: 'verified', contact } : { status: 'pinned', contact };
}

/** The pin state of a key from the pins as they are now (`deps.accountState.pins`). */
export function pinStateNow(
  pins: readonly PinnedKey[],
  userId: string,
  currentFingerprint: string,
): PinState {
  return pinStateOf(contactsOf(pins), userId, currentFingerprint);
}

/** Whether sharing with this key is allowed: never while a pinned key has changed or its numbers did not match. */
export function canShare(state: PinState): boolean {
  return state.status !== 'changed' && state.status !== 'mismatch';
}

/** Why sharing is blocked, in words, or null when it is not. */
export function whyBlocked(state: PinState, name: string): string | null {
  switch (state.status) {
    case 'changed':
      return `Sharing with ${name} is blocked until you compare the numbers for their new key.`;
    case 'mismatch':
      return `Sharing with ${name} is blocked: when you compared numbers, they did not match. Compare them again, in person or on a call you started; sharing opens once they match.`;
    default:
      return null;
  }
}

/** First use: pin the key unverified. Refuses to silently replace a different pinned key. */
export function pin(doc: ContactsDoc, person: DirectoryPerson, fp: string, now: Date): ContactsDoc {
  const existing = doc.contacts[person.id];
  if (existing && existing.fingerprint !== fp)
    throw new Error('this contact’s key changed; look at the new key and verify it first');
  if (existing) return doc;
  return {
    ...doc,
    contacts: {
      ...doc.contacts,
      [person.id]: {
        userId: person.id,
        name: person.name,
        role: person.role,
        fingerprint: fp,
        verified: false,
        pinnedAt: now.toISOString(),
        previous: [],
      },
    },
  };
}

/**
 * The user compared fingerprints / safety number and confirms this key. For a changed key this
 * is the explicit re-verification that unblocks sharing; the old fingerprint is kept, and so are
 * the name and role pinned before (the directory's word never replaces them).
 */
export function markVerified(
  doc: ContactsDoc,
  person: DirectoryPerson,
  fp: string,
  now: Date,
): ContactsDoc {
  const existing = doc.contacts[person.id];
  const previous =
    existing && existing.fingerprint !== fp
      ? [...existing.previous, existing.fingerprint]
      : (existing?.previous ?? []);
  return {
    ...doc,
    contacts: {
      ...doc.contacts,
      [person.id]: {
        userId: person.id,
        name: existing?.name ?? person.name,
        role: existing?.role ?? person.role,
        fingerprint: fp,
        verified: true,
        pinnedAt: existing?.pinnedAt ?? now.toISOString(),
        verifiedAt: now.toISOString(),
        previous,
      },
    },
  };
}

/**
 * The user compared numbers for key `fp` and said they do not match: remembered (signed, in the
 * account state) so sharing with that key stays blocked on every device until a comparison
 * matches (`markVerified` replaces the contact without it). The pinned key is kept as it was; a
 * person never pinned is pinned unverified with the mismatch.
 */
export function markMismatch(
  doc: ContactsDoc,
  person: DirectoryPerson,
  fp: string,
  now: Date,
): ContactsDoc {
  const existing = doc.contacts[person.id] ?? {
    userId: person.id,
    name: person.name,
    role: person.role,
    fingerprint: fp,
    verified: false,
    pinnedAt: now.toISOString(),
    previous: [],
  };
  return {
    ...doc,
    contacts: {
      ...doc.contacts,
      [person.id]: { ...existing, mismatch: { fingerprint: fp, at: now.toISOString() } },
    },
  };
}

export function removeContact(doc: ContactsDoc, userId: string): ContactsDoc {
  const { [userId]: _gone, ...rest } = doc.contacts;
  return { ...doc, contacts: rest };
}
