import { endpoints, type Me, type Role } from '@medseal/contract';
import type { Call } from '../api/http';
import type { CryptoClient, KeyRef } from '../crypto/client';
import type { EmailLookup, KeyTransparency } from './transparency';

/** A person with the key the directory gave us and the fingerprint computed here from it. */
export interface Person {
  id: string;
  name: string;
  role: Role;
  publicKey: string;
  /** Computed in this browser from `publicKey` (DESIGN §2: never trust the server's string). */
  fingerprint: string;
}

/**
 * Directory look-ups cached for the tab. The fingerprint is always recomputed locally; if it
 * differs from what the server claims, or the answer is for someone other than the person asked
 * about, the entry is refused (a lying or broken server). Every
 * key must also be the one the transparency log binds to the person, proven under a head
 * consistent with the account's (DESIGN §14): else KeyNotProvenError, and nothing is shared.
 */
export class KeyBook {
  private readonly cache = new Map<string, Promise<Person>>();

  constructor(
    private readonly call: Call,
    private readonly crypto: CryptoClient,
    private readonly transparency: KeyTransparency,
    me: Me,
    myKey: KeyRef,
  ) {
    this.cache.set(
      me.id,
      Promise.resolve({
        id: me.id,
        name: me.name,
        role: me.role,
        publicKey: myKey.publicKey,
        fingerprint: myKey.fingerprint,
      }),
    );
  }

  get(userId: string): Promise<Person> {
    let entry = this.cache.get(userId);
    if (!entry) {
      entry = this.load(userId);
      entry.catch(() => this.cache.delete(userId));
      this.cache.set(userId, entry);
    }
    return entry;
  }

  async findByEmail(email: string): Promise<Person | null> {
    const { users } = await this.call(endpoints.findUsers, { query: { email } });
    const user = users[0];
    if (!user) return null;
    // The log binds the email too (its leaf commits to it under the nonce this answer brings):
    // the server cannot answer with someone else for this address.
    const person = await this.toPerson(user, {
      email,
      ...(user.emailNonce === undefined ? {} : { emailNonce: user.emailNonce }),
    });
    this.cache.set(person.id, Promise.resolve(person));
    return person;
  }

  /** Forget a cached entry (after a key-change warning, to ask the directory again). */
  refresh(userId: string): void {
    this.cache.delete(userId);
  }

  private async load(userId: string): Promise<Person> {
    const user = await this.call(endpoints.getUser, { params: { userId } });
    // Another person's entry (their key, rightly logged for them) is never taken as this one's.
    if (user.id !== userId)
      throw new Error(
        `The server answered a look-up of one person with another person’s key. Refused.`,
      );
    return this.toPerson(user);
  }

  private async toPerson(
    user: { id: string; name: string; role: Role; publicKey: string; fingerprint: string },
    lookedUp?: EmailLookup,
  ): Promise<Person> {
    const fingerprint = await this.crypto.fingerprintOf(user.publicKey);
    if (fingerprint !== user.fingerprint)
      throw new Error(
        `The server sent mismatched key details for ${user.name}: their key was not used.`,
      );
    await this.transparency.proveKey(user, lookedUp);
    return {
      id: user.id,
      name: user.name,
      role: user.role,
      publicKey: user.publicKey,
      fingerprint,
    };
  }
}
