import { endpoints } from '@medseal/contract';
import type { OwnBindingsResult, SignedTreeHead } from '@medseal/crypto';
import { isApiError } from '../api/errors';
import type { Call } from '../api/http';
import type { CryptoClient, KeyHandle } from '../crypto/client';
import type { AccountStateBook } from './accountState';

/**
 * Key transparency from the browser's side (DESIGN §14, docs/decisions.md "Key transparency"):
 * every check runs in the worker against the log key built into the app; this class fetches
 * what the checks need and keeps the newest accepted head in the account state.
 *
 * - A head is accepted once per session (and again when a person's key is newer than it) and
 *   only if it is consistent with the head the account state holds.
 * - Every key taken from the directory must come with an inclusion proof under that head.
 * - At login, every binding the log holds for this account must be the account's own key.
 * - Heads that other people signed into records and grants must be consistent with ours.
 */
export interface TransparencyDeps {
  call: Call;
  crypto: CryptoClient;
  book: AccountStateBook;
}

/** Something the user must see at once (not a failure of one action). */
export type TransparencyAlert =
  /** The log binds a key to this account that is not the account's key. */
  | { kind: 'foreign-key'; bindings: { fingerprint: string; at: number }[] }
  /** The log holds no binding for this account's key: the directory serves a key never logged. */
  | { kind: 'own-key-missing' }
  /** Another person's head is not consistent with ours: the server shows us different logs. */
  | { kind: 'split-view'; source: string }
  /** The log could not be checked against the head this account accepted before. */
  | { kind: 'log-refused'; reason: string };

/** Why a person's key was refused, in words for people (STYLE.md §20: one place per status). */
export function explainKeyRefusal(name: string, code: string): string {
  const blocked = `Sharing with ${name} is blocked: Medseal could not confirm that this is ${name}’s real key.`;
  switch (code) {
    case 'kt-not-logged':
      return `${blocked} The server gave a key that is not in the public key log, where every key must be published.`;
    case 'kt-binding-mismatch':
      return `${blocked} The public key log lists another key for ${name} than the one the server gave.`;
    case 'kt-bad-proof':
    case 'kt-malformed':
      return `${blocked} The server’s proof that the key is in the public key log is wrong.`;
    default:
      return `${blocked} ${explainLogRefusal(code)}`;
  }
}

/** Words for a head that was refused (the whole log is in doubt, not one key). */
export function explainLogRefusal(code: string): string {
  switch (code) {
    case 'kt-bad-head-signature':
      return 'The server’s public key log is not signed by the log key built into this app.';
    case 'kt-head-older':
      return 'The server showed an older public key log than one your account has already seen: it was rolled back.';
    case 'kt-inconsistent':
      return 'The server’s public key log does not extend the one your account saw before: it was rewritten or forked.';
    default:
      return 'The public key log could not be checked.';
  }
}

const codeOf = (error: unknown): string => (error instanceof Error && 'code' in error && typeof error.code === 'string' ? error.code : 'unknown');

/** A person's key was not proven by the log; the message says why in plain words. */
export class KeyNotProvenError extends Error {
  constructor(
    readonly reason: string,
    name: string,
    options?: { cause?: unknown },
  ) {
    super(explainKeyRefusal(name, reason), options);
    this.name = 'KeyNotProvenError';
  }
}

export class KeyTransparency {
  private head: Promise<SignedTreeHead> | null = null;
  /** Gossip already checked this session, by size and root. */
  private readonly gossiped = new Set<string>();
  private current: TransparencyAlert[] = [];
  private readonly listeners = new Set<() => void>();

  constructor(private readonly deps: TransparencyDeps) {}

  /** The newest head the log signed that is consistent with the stored one (checked once per session). */
  currentHead(): Promise<SignedTreeHead> {
    if (!this.head) {
      const head = this.fetchHead();
      head.catch(() => {
        if (this.head === head) this.head = null;
      });
      this.head = head;
    }
    return this.head;
  }

  /** Asks the log for its newest head again (a person registered after ours). */
  private refreshHead(): Promise<SignedTreeHead> {
    this.head = null;
    return this.currentHead();
  }

  private async fetchHead(): Promise<SignedTreeHead> {
    const { call, crypto, book } = this.deps;
    const next = await call(endpoints.ktHead, {});
    const stored = book.transparencyHead;
    // A smaller head is refused by the check itself (a rollback); only a larger one has a proof.
    const consistency = stored && stored.size > 0 && next.size > stored.size ? (await call(endpoints.ktConsistency, { query: { from: stored.size, to: next.size } })).proof : [];
    let accepted: SignedTreeHead;
    try {
      accepted = await crypto.ktCheckHead({ stored, next, consistency });
    } catch (error) {
      this.raise({ kind: 'log-refused', reason: explainLogRefusal(codeOf(error)) });
      throw error;
    }
    if (stored?.size !== accepted.size) await book.keepTransparencyHead(accepted);
    return accepted;
  }

  /**
   * Proves that `user.publicKey` is the key the log binds to `user.id` (KeyBook's door), and
   * to `email` when the user looked the person up by it.
   * @throws KeyNotProvenError with the reason in plain words.
   */
  async proveKey(user: { id: string; name: string; publicKey: string }, email?: string): Promise<void> {
    const prove = async (head: SignedTreeHead) => {
      const proven = await this.deps.call(endpoints.ktUserBinding, { params: { userId: user.id }, query: { size: head.size } });
      await this.deps.crypto.ktVerifyKey({ head, armoredKey: user.publicKey, expect: { userId: user.id, ...(email === undefined ? {} : { email }) }, proven });
    };
    try {
      const head = await this.currentHead();
      try {
        await prove(head);
      } catch (error) {
        // A key newer than our head (registered or changed since): a newer head must hold it,
        // since the server logs a key before it serves it. Asked once; an older head is refused.
        if (!isApiError(error, 'kt-not-logged') && codeOf(error) !== 'kt-binding-mismatch') throw error;
        const newer = await this.refreshHead();
        if (newer.size === head.size) throw error;
        await prove(newer);
      }
    } catch (error) {
      const code = isApiError(error) ? error.code : codeOf(error);
      if (code.startsWith('kt-')) throw new KeyNotProvenError(code, user.name, { cause: error });
      throw error;
    }
  }

  /**
   * Self-monitoring (DESIGN §14), once per login: every binding the log ever held for this
   * account must be its own key; anything else is an alert with its date.
   */
  async checkOwnBindings(me: { userId: string; keyHandle: KeyHandle }): Promise<OwnBindingsResult> {
    const head = await this.currentHead();
    const history = await this.deps.call(endpoints.ktHistory, { query: { size: head.size } });
    const result = await this.deps.crypto.ktCheckOwnBindings({ head, userId: me.userId, keyHandle: me.keyHandle, history: history.bindings });
    if (result.status === 'foreign-key') this.raise({ kind: 'foreign-key', bindings: result.bindings.map((b) => ({ fingerprint: b.fingerprint, at: b.at })) });
    if (result.status === 'own-key-missing') this.raise({ kind: 'own-key-missing' });
    return result;
  }

  /**
   * Gossip (DESIGN §14): heads other people signed into a record or grant must be consistent
   * with ours. An inconsistency is a split view: an alert, never a silent failure.
   * @param source who signed them, for the alert ("Dr. Ada Lovelace's record"). Never throws:
   *   a check that could not run is tried again with the next record.
   */
  async checkGossip(heads: readonly SignedTreeHead[], source: string): Promise<void> {
    for (const theirs of heads) {
      const id = `${theirs.size}:${theirs.root}`;
      if (this.gossiped.has(id)) continue;
      // A head that cannot be had is an alert of its own (fetchHead raised it).
      let own = await this.currentHead().catch(() => null);
      if (own && theirs.size > own.size) own = await this.refreshHead().catch(() => null);
      if (!own) return;
      const [from, to] = own.size <= theirs.size ? [own.size, theirs.size] : [theirs.size, own.size];
      let proof: string[];
      try {
        proof = from === to ? [] : (await this.deps.call(endpoints.ktConsistency, { query: { from, to } })).proof;
      } catch (error) {
        // Not reached: tried again at the next record. Any answer but a proof is the server's
        // choice, and hiding the proof must not hide a split view.
        if (isApiError(error, 'network-error')) return;
        this.raise({ kind: 'split-view', source });
        continue;
      }
      // A head the log key did not sign is no view of this log either.
      const result = await this.deps.crypto.ktCheckGossip({ own, theirs, proof }).catch(() => ({ status: 'split-view' as const }));
      if (result.status === 'split-view') this.raise({ kind: 'split-view', source });
      else this.gossiped.add(id);
    }
  }

  get alerts(): readonly TransparencyAlert[] {
    return this.current;
  }

  subscribe(listener: () => void): () => void {
    this.listeners.add(listener);
    return () => this.listeners.delete(listener);
  }

  private raise(alert: TransparencyAlert): void {
    if (this.current.some((a) => JSON.stringify(a) === JSON.stringify(alert))) return;
    this.current = [...this.current, alert];
    for (const l of this.listeners) l();
  }
}
