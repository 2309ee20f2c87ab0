import { endpoints } from '@medseal/contract';
import type { OwnBindingsResult, SignedTreeHead, TeamState } from '@medseal/crypto';
import { isApiError, isUnavailable } from '../api/errors';
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
 * - At login, every binding the log holds for this account must be the account's own key, and
 *   the listing must be all of them (the map the head signs counts them: issue 12), and every
 *   team the log says she was made a member of by another key is shown to her.
 * - Heads that other people signed into records and grants must be consistent with ours.
 */
export interface TransparencyDeps {
  call: Call;
  crypto: CryptoClient;
  book: AccountStateBook;
  /** This account and its unlocked key (self-monitoring). */
  me: { userId: string; keyHandle: KeyHandle };
}

/**
 * A person looked up by email: the address asked for, and the nonce the answer brought, under
 * which her key leaf commits to it (a leaf from before such leaves holds the address itself).
 */
export interface EmailLookup {
  email: string;
  emailNonce?: string;
}

/** Something the user must see at once (not a failure of one action). */
export type TransparencyAlert =
  /**
   * The log binds a key to this account that is not the account's key; `withheld`: leaves the
   * log holds for this account that the server left out of its listing (the map counts them).
   */
  | { kind: 'foreign-key'; bindings: { fingerprint: string; at: number }[]; withheld: number }
  /** The log holds no binding for this account's key: the directory serves a key never logged. */
  | { kind: 'own-key-missing' }
  /** The log holds changes of a team that are not in its signed history (a team key or membership no admin of it signed, or a change hidden from us). */
  | {
      kind: 'team-foreign';
      teamId: string;
      teamName: string;
      changes: { seq: number; at: number }[];
      withheld: number;
    }
  /**
   * The log says this account was made a member of a team (or had its role there changed) by a
   * statement another key signed: shown until acknowledged, since a team she does not know may be
   * using her name to look attested (docs/decisions.md "Memberships in the log").
   */
  | {
      kind: 'team-membership';
      teamId: string;
      teamName: string;
      practiceName: string;
      seq: number;
      /** The statement's hash: another statement at the same place is another event. */
      statementHash: string;
      role: string;
      admin: boolean;
      by: string;
      at: number;
    }
  /** The log holds memberships of this account (under the head of `size`) that the server's listing left out (the map counts them). */
  | { kind: 'memberships-withheld'; withheld: number; size: number }
  /** Another person's head is not consistent with ours: the server shows us different logs (`head`: theirs, `at`: when seen). */
  | { kind: 'split-view'; source: string; head: string; at: number }
  /** The log could not be checked against the head this account accepted before. */
  | { kind: 'log-refused'; reason: string };

/** Withheld leaves in an alert's id (none: the id an alert had before the map, still acknowledged). */
const withheldId = (withheld: number): string => (withheld > 0 ? `;withheld=${withheld}` : '');

/**
 * The event an alert is about, stable across sessions and devices: acknowledging it keeps it in
 * the account state as acknowledged, and a new, different event has another id (it shows again).
 */
export function alertId(alert: TransparencyAlert): string {
  switch (alert.kind) {
    case 'foreign-key':
      return `foreign-key:${alert.bindings.map((b) => `${b.fingerprint}@${b.at}`).join(',')}${withheldId(alert.withheld)}`;
    case 'own-key-missing':
      return 'own-key-missing';
    case 'team-foreign':
      return `team-foreign:${alert.teamId}:${alert.changes.map((c) => `${c.seq}@${c.at}`).join(',')}${withheldId(alert.withheld)}`;
    case 'team-membership':
      return `team-membership:${alert.teamId}:${alert.seq}@${alert.at}:${alert.statementHash}`;
    case 'memberships-withheld':
      return `memberships-withheld:${alert.withheld}@${alert.size}`;
    case 'split-view':
      return `split-view:${alert.head}`;
    case 'log-refused':
      return `log-refused:${alert.reason}`;
  }
}

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
    case 'kt-no-map':
      return `${blocked} The server’s public key log does not prove which key is ${name}’s latest.`;
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
    case 'kt-bad-proof':
    case 'kt-malformed':
      return 'The server’s proof of what the public key log holds for your account is wrong: an entry may be hidden from you.';
    case 'kt-no-map':
      return 'The server’s public key log does not say how many entries each account and team has, so a hidden entry could not be found.';
    case 'kt-map-mismatch':
      return 'The server listed entries of the public key log that its own count of them does not hold.';
    default:
      return 'The public key log could not be checked.';
  }
}

/** Why a team was refused, in words for people. */
export function explainTeamRefusal(name: string, code: string): string {
  const blocked = `Sharing with the team ${name} is blocked: Medseal could not confirm that this is the team’s real history.`;
  switch (code) {
    case 'kt-team-not-logged':
      return `${blocked} The server showed changes of the team (members or team key) that are not in the public key log, where every change must be published.`;
    case 'kt-team-foreign':
      return `${blocked} The public key log holds changes of this team (members or team key) that are not in the history the server showed you.`;
    case 'kt-binding-mismatch':
    case 'kt-bad-proof':
    case 'kt-malformed':
    case 'kt-map-mismatch':
      return `${blocked} The server’s proof that the team’s changes are in the public key log is wrong.`;
    default:
      return `${blocked} ${explainLogRefusal(code)}`;
  }
}

const codeOf = (error: unknown): string =>
  error instanceof Error && 'code' in error && typeof error.code === 'string'
    ? error.code
    : 'unknown';

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

/** A team's history was not proven by the log; the message says why in plain words. */
export class TeamNotProvenError extends Error {
  constructor(
    readonly reason: string,
    name: string,
    options?: { cause?: unknown },
  ) {
    super(explainTeamRefusal(name, reason), options);
    this.name = 'TeamNotProvenError';
  }
}

export class KeyTransparency {
  private head: Promise<SignedTreeHead> | null = null;
  /** Gossip already checked this session, by size and roots. */
  private readonly gossiped = new Set<string>();
  private current: TransparencyAlert[] = [];
  /** The largest head self-monitoring ran under. */
  private monitoredSize = 0;
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
    const consistency =
      stored && stored.size > 0 && next.size > stored.size
        ? (await call(endpoints.ktConsistency, { query: { from: stored.size, to: next.size } }))
            .proof
        : [];
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
   * to the email the user looked the person up by, if she did (`lookedUp`).
   * @throws KeyNotProvenError with the reason in plain words.
   */
  async proveKey(
    user: { id: string; name: string; publicKey: string },
    lookedUp?: EmailLookup,
  ): Promise<void> {
    const prove = async (head: SignedTreeHead) => {
      const proven = await this.deps.call(endpoints.ktUserBinding, {
        params: { userId: user.id },
        query: { size: head.size },
      });
      const { map, ...binding } = proven;
      await this.deps.crypto.ktVerifyKey({
        head,
        armoredKey: user.publicKey,
        expect: { userId: user.id, ...lookedUp },
        proven: binding,
        map,
      });
    };
    try {
      const head = await this.currentHead();
      try {
        await prove(head);
      } catch (error) {
        // A key newer than our head (registered or changed since): a newer head must hold it,
        // since the server logs a key before it serves it. Asked once; an older head is refused.
        if (!isApiError(error, 'kt-not-logged') && codeOf(error) !== 'kt-binding-mismatch')
          throw error;
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
   * Proves a team's verified history (`state`, the replay of `statements`) against every leaf
   * the log holds for the team (DESIGN §14): its latest statement must be logged, and no leaf
   * may be a change outside that history. A change outside it is also an alert: for the team's
   * admins it is a team key or membership they did not sign (self-monitoring).
   * @throws TeamNotProvenError with the reason in plain words.
   */
  async proveTeam(team: { state: TeamState; statements: string[] }): Promise<void> {
    const { state } = team;
    const check = async (head: SignedTreeHead) => {
      const history = await this.deps.call(endpoints.ktTeamHistory, {
        params: { teamId: state.teamId },
        query: { size: head.size },
      });
      return this.deps.crypto.ktCheckTeam({
        head,
        state,
        statements: team.statements,
        history: history.bindings,
        map: history.map,
      });
    };
    try {
      const head = await this.currentHead();
      let result = await check(head);
      // A change newer than our head: the server logs a statement as it stores it. Asked once.
      if (result.status === 'not-logged') {
        const newer = await this.refreshHead();
        if (newer.size > head.size) result = await check(newer);
      }
      if (result.status === 'foreign') {
        this.raise({
          kind: 'team-foreign',
          teamId: state.teamId,
          teamName: state.name,
          changes: result.leaves.map((l) => ({ seq: l.seq, at: l.at })),
          withheld: result.withheld,
        });
        throw new TeamNotProvenError('kt-team-foreign', state.name);
      }
      if (result.status === 'not-logged')
        throw new TeamNotProvenError('kt-team-not-logged', state.name);
    } catch (error) {
      if (error instanceof TeamNotProvenError) throw error;
      const code = isApiError(error) ? error.code : codeOf(error);
      if (code.startsWith('kt-')) throw new TeamNotProvenError(code, state.name, { cause: error });
      throw error;
    }
  }

  /**
   * Self-monitoring (DESIGN §14), at each login under the current head, and again under any
   * larger head someone else signed into a record or grant (gossip): every binding the log ever
   * held for this account must be its own key; anything else is an alert with its date. So a
   * server that hides a key it logged for me behind an older or forked view is caught as soon as
   * a head from the real log reaches me.
   */
  async checkOwnBindings(head?: SignedTreeHead): Promise<OwnBindingsResult> {
    const under = head ?? (await this.currentHead());
    const history = await this.deps.call(endpoints.ktHistory, { query: { size: under.size } });
    let result: OwnBindingsResult;
    try {
      result = await this.deps.crypto.ktCheckOwnBindings({
        head: under,
        userId: this.deps.me.userId,
        keyHandle: this.deps.me.keyHandle,
        history: history.bindings,
        map: history.map,
      });
    } catch (error) {
      // A listing of my entries that cannot be checked (a wrong proof, no map): a leaf may be hidden.
      const code = codeOf(error);
      if (code.startsWith('kt-'))
        this.raise({ kind: 'log-refused', reason: explainLogRefusal(code) });
      throw error;
    }
    this.monitoredSize = Math.max(this.monitoredSize, under.size);
    if (result.status === 'foreign-key')
      this.raise({
        kind: 'foreign-key',
        bindings: result.bindings.map((b) => ({ fingerprint: b.fingerprint, at: b.at })),
        withheld: result.withheld,
      });
    if (result.status === 'own-key-missing') this.raise({ kind: 'own-key-missing' });
    await this.checkOwnMemberships(under);
    return result;
  }

  /**
   * Self-monitoring of memberships, under the same head: every team statement the log lists as
   * naming me that my own key did not sign is shown once, with its date, until I acknowledge it.
   * A leaf naming my key as its signer counts as mine only once the statement it names, as the
   * server gives it, verifies with my key (the leaf's signer field is the server's word).
   */
  private async checkOwnMemberships(under: SignedTreeHead): Promise<void> {
    const history = await this.deps.call(endpoints.ktMemberships, { query: { size: under.size } });
    const check = (statements?: string[]) =>
      this.deps.crypto.ktCheckOwnMemberships({
        head: under,
        userId: this.deps.me.userId,
        keyHandle: this.deps.me.keyHandle,
        history: history.bindings,
        map: history.map,
        ...(statements ? { statements } : {}),
      });
    let result = await check();
    if (result.status === 'confirm-own')
      result = await check(await this.statementsAt(result.leaves));
    if (result.status !== 'unknown-membership') return;
    for (const m of result.memberships) {
      this.raise({
        kind: 'team-membership',
        teamId: m.teamId,
        teamName: m.teamName,
        practiceName: m.practiceName,
        seq: m.seq,
        statementHash: m.statementHash,
        role: m.role,
        admin: m.admin,
        by: m.by,
        at: m.at,
      });
    }
    if (result.withheld > 0)
      this.raise({ kind: 'memberships-withheld', withheld: result.withheld, size: under.size });
  }

  /**
   * The signed team statements at these places, as the server gives them; one it does not give
   * (another answer than the page) is left out, so its leaf is shown. An unanswered question
   * (unavailable) fails the self-check, which is asked again.
   */
  private async statementsAt(
    places: readonly { teamId: string; seq: number }[],
  ): Promise<string[]> {
    const found = await Promise.all(
      places.map(async ({ teamId, seq }) => {
        try {
          const page = await this.deps.call(endpoints.teamStatements, {
            params: { teamId },
            query: { from: seq },
          });
          return page.statements.find((st) => st.seq === seq)?.signed;
        } catch (error) {
          if (isUnavailable(error)) throw error;
          return undefined;
        }
      }),
    );
    return found.filter((signed): signed is string => signed !== undefined);
  }

  /**
   * Gossip (DESIGN §14): heads other people signed into a record or grant must be consistent
   * with ours. An inconsistency is a split view: an alert, never a silent failure.
   * @param source who signed them, for the alert ("Dr. Ada Lovelace's record"). Never throws:
   *   a check that could not run is tried again with the next record.
   */
  async checkGossip(heads: readonly SignedTreeHead[], source: string): Promise<void> {
    for (const theirs of heads) {
      // The map root too: two heads of one tree with different maps are a split view.
      const id = `${theirs.size}:${theirs.root}${theirs.v === 2 ? `:${theirs.mapRoot}` : ''}`;
      if (this.gossiped.has(id)) continue;
      // A head that cannot be had is an alert of its own (fetchHead raised it).
      let own = await this.currentHead().catch(() => null);
      if (own && theirs.size > own.size) {
        try {
          own = await this.refreshHead();
        } catch (error) {
          // As for the proof (compare): any answer but the newer head is the server's choice, and
          // must not hide a split view. A head that did not check raised its own alert (fetchHead).
          if (isApiError(error) && !isApiError(error, 'network-error'))
            this.raise({ kind: 'split-view', source, head: id, at: Date.now() });
          return;
        }
      }
      if (!own) return;
      const seen = await this.compare(own, theirs);
      // Not reached: tried again at the next record.
      if (seen === 'unreachable') return;
      if (seen === 'split-view')
        this.raise({ kind: 'split-view', source, head: id, at: Date.now() });
      else this.gossiped.add(id);
      // My own bindings under their (signed) head too: a key logged for me that my view hides.
      // A server that will not answer for that head leaves the split-view alert standing.
      if (theirs.size > this.monitoredSize)
        await this.checkOwnBindings(theirs).catch(() => undefined);
    }
  }

  private async compare(
    own: SignedTreeHead,
    theirs: SignedTreeHead,
  ): Promise<'consistent' | 'split-view' | 'unreachable'> {
    const [from, to] = own.size <= theirs.size ? [own.size, theirs.size] : [theirs.size, own.size];
    let proof: string[];
    try {
      proof =
        from === to
          ? []
          : (await this.deps.call(endpoints.ktConsistency, { query: { from, to } })).proof;
    } catch (error) {
      // Any answer but a proof is the server's choice, and hiding the proof must not hide a split view.
      return isApiError(error, 'network-error') ? 'unreachable' : 'split-view';
    }
    // A head the log key did not sign is no view of this log either.
    const result = await this.deps.crypto
      .ktCheckGossip({ own, theirs, proof })
      .catch(() => ({ status: 'split-view' as const }));
    return result.status;
  }

  get alerts(): readonly TransparencyAlert[] {
    return this.current;
  }

  subscribe(listener: () => void): () => void {
    this.listeners.add(listener);
    return () => this.listeners.delete(listener);
  }

  private raise(alert: TransparencyAlert): void {
    if (this.current.some((a) => alertId(a) === alertId(alert))) return;
    this.current = [...this.current, alert];
    for (const l of this.listeners) l();
  }
}
