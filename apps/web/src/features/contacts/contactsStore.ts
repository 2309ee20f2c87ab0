import { endpoints } from '@medseal/contract';
import type { Call } from '../../api/http';
import type { CryptoClient, KeyRef } from '../../crypto/client';
import { EMPTY_CONTACTS, parseContactsDoc, type ContactsDoc } from './contactsModel';

/** Purpose label sealed into the blob, so no other self-encrypted blob can pass as contacts. */
export const CONTACTS_PURPOSE = 'medseal.contacts.v1';

export interface LoadedContacts {
  doc: ContactsDoc;
  version: number;
}

export class ContactsError extends Error {
  constructor(
    readonly code: 'contacts-not-verified' | 'contacts-unreadable',
    message: string,
  ) {
    super(message);
    this.name = 'ContactsError';
  }
}

/** Loads and decrypts my pinned contacts; refuses a list that is not signed by me. */
export async function loadContacts(deps: { call: Call; crypto: CryptoClient; key: KeyRef }): Promise<LoadedContacts> {
  const stored = await deps.call(endpoints.getContacts, {});
  if (!stored.blob) return { doc: EMPTY_CONTACTS, version: stored.version };
  const opened = await deps.crypto.openSelfBlob({ message: stored.blob, purpose: CONTACTS_PURPOSE, keyHandle: deps.key.handle });
  if (opened.status !== 'verified') {
    throw new ContactsError('contacts-not-verified', `Your contacts list on the server failed verification (${opened.status}); it was not used.`);
  }
  return { doc: parseContactsDoc(opened.data), version: stored.version };
}

/** Encrypts to and signs by me, then stores with the version it was based on (409 on a race). */
export async function saveContacts(deps: { call: Call; crypto: CryptoClient; key: KeyRef }, doc: ContactsDoc, baseVersion: number): Promise<LoadedContacts> {
  const blob = await deps.crypto.sealSelfBlob({ data: doc, purpose: CONTACTS_PURPOSE, keyHandle: deps.key.handle });
  const saved = await deps.call(endpoints.putContacts, { body: { baseVersion, blob } });
  return { doc, version: saved.version };
}
