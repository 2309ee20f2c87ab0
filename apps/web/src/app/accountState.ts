import { endpoints, type Me } from '@medseal/contract';
import type {
  AccountState,
  AcknowledgedAlert,
  AuditMark,
  ConsentGiven,
  HighWaterMark,
  OpenAccountStateResult,
  PinnedKey,
  PinnedTeam,
  SignedTreeHead,
  UserId,
} from '@medseal/crypto';
import { isApiError } from '../api/errors';
import type { Call } from '../api/http';
import type { CryptoClient, KeyRef } from '../crypto/client';
import { parseContactsDoc, pinsOf } from '../features/contacts/contactsModel';
import type { HighWaterMarks } from './highWaterMarks';

/**
 * The account state from the browser's side (DESIGN §12): loaded and verified once per
 * unlock, kept in memory for the session, saved after every change with optimistic
 * versioning, and never replaced by an empty one. This device's high-water mark is raised
 * after every verified load and every save.
 */
export interface AccountStateDeps {
  call: Call;
  crypto: CryptoClient;
  user: Me;
  key: KeyRef;
  marks: HighWaterMarks;
}

export type AccountStateProblem =
  | { status: 'missing' }
  | Exclude<OpenAccountStateResult, { status: 'verified' }>
  | { status: 'version-mismatch'; signed: number; stored: number };

/** The account state could not be used: a security error the user sees (never an empty state). */
export class AccountStateError extends Error {
  constructor(readonly problem: AccountStateProblem) {
    super(explainProblem(problem));
    this.name = 'AccountStateError';
  }
}

/** One plain sentence per status (STYLE.md §20). */
export function explainProblem(p: AccountStateProblem): string {
  const head =
    'Security warning: your account state (the keys you checked or first saw, your verified contacts, the record versions you have seen)';
  switch (p.status) {
    case 'missing':
      return `${head} is missing on the server. Medseal does not start from an empty list, because that would hide every key you checked or saw before.`;
    case 'rolled-back':
      return `${head} on the server is older (version ${p.version}) than one this device has already seen (version ${p.highWater.version}): it was rolled back.`;
    case 'forked':
      return `${head} on the server is not the version ${p.version} this device saw: the server shows your devices different states.`;
    case 'bad-signature':
      return `${head} on the server could not be verified: it is not signed by your key (${p.reason}). It was not used.`;
    case 'not-for-me':
      return `${head} on the server is not encrypted to your key. It was not used.`;
    case 'context-mismatch':
      return `${head} on the server is not yours (mismatch: ${p.mismatches.join(', ')}). It was not used.`;
    case 'version-mismatch':
      return `${head} on the server carries version ${p.stored}, but it is signed as version ${p.signed}. It was not used.`;
  }
}

const NO_ALERTS: readonly AcknowledgedAlert[] = [];

/** The purpose the contacts blob was sealed under, before the account state (migrated once). */
const CONTACTS_PURPOSE = 'medseal.contacts.v1';

function fromBase64Url(text: string): Uint8Array {
  const b64 = text.replace(/-/g, '+').replace(/_/g, '/');
  const binary = atob(b64 + '='.repeat((4 - (b64.length % 4)) % 4));
  const out = new Uint8Array(binary.length);
  for (let i = 0; i < binary.length; i++) out[i] = binary.charCodeAt(i);
  return out;
}

async function openStored(
  deps: AccountStateDeps,
): Promise<{ state: AccountState; mark: HighWaterMark } | { status: 'missing' }> {
  const stored = await deps.call(endpoints.getAccountState, {});
  if (stored.blob === null) return { status: 'missing' };
  const highWater = await deps.marks.get(deps.user.id);
  const opened = await deps.crypto.openAccountState({
    message: fromBase64Url(stored.blob),
    userId: deps.user.id,
    keyHandle: deps.key.handle,
    ...(highWater ? { highWater } : {}),
  });
  if (opened.status !== 'verified') throw new AccountStateError(opened);
  if (opened.state.version !== stored.version)
    throw new AccountStateError({
      status: 'version-mismatch',
      signed: opened.state.version,
      stored: stored.version,
    });
  await deps.marks.raise(deps.user.id, opened.mark);
  return { state: opened.state, mark: opened.mark };
}

/** Stores `state` as the version after `baseVersion`; raises this device's mark. */
async function store(deps: AccountStateDeps, state: AccountState): Promise<void> {
  const { message, mark } = await deps.crypto.sealAccountState({
    state,
    keyHandle: deps.key.handle,
  });
  await deps.call(endpoints.putAccountState, {
    query: { baseVersion: state.version - 1 },
    body: message,
  });
  await deps.marks.raise(deps.user.id, mark);
}

/**
 * A new, empty state (but `pins`), one version above what this device last saw: its own mark
 * and other devices' marks (as high or lower) then accept it instead of calling it rolled back.
 */
async function emptyState(deps: AccountStateDeps, pins: PinnedKey[]): Promise<AccountState> {
  const version = ((await deps.marks.get(deps.user.id))?.version ?? 0) + 1;
  return {
    userId: deps.user.id as UserId,
    version,
    ownKey: await deps.crypto.ownKeyOf(deps.key.handle),
    pins,
    seen: {},
    consents: [],
    audit: {},
    transparencyHead: null,
  };
}

/** The first account state, written at registration (and by the user's explicit reset). */
export async function createFirstAccountState(deps: AccountStateDeps): Promise<AccountState> {
  const state = await emptyState(deps, []);
  await store(deps, state);
  return state;
}

/**
 * Folds the pinned-contacts blob of earlier versions into a first account state, once: only
 * when no state exists yet and this device never saw one. The contacts blob must verify; it is
 * deleted on the server once the state is stored.
 */
async function migrateContacts(deps: AccountStateDeps): Promise<AccountState | null> {
  if (await deps.marks.get(deps.user.id)) return null;
  const legacy = await deps.call(endpoints.getContacts, {});
  if (!legacy.blob) return null;
  const opened = await deps.crypto.openSelfBlob({
    message: legacy.blob,
    purpose: CONTACTS_PURPOSE,
    keyHandle: deps.key.handle,
  });
  if (opened.status !== 'verified')
    throw new AccountStateError(
      opened.status === 'not-for-me'
        ? opened
        : {
            status: 'bad-signature',
            reason: opened.status === 'bad-signature' ? opened.reason : 'malformed',
          },
    );
  const pins = pinsOf(parseContactsDoc(opened.data));
  const state = await emptyState(deps, pins);
  await store(deps, state);
  // The pins now live in the signed state; a contacts list left behind could only be served again.
  await deps.call(endpoints.deleteContacts, {});
  return state;
}

type Change = (state: AccountState) => AccountState;

/**
 * The session's account state. Reads are synchronous (what was verified at load plus local
 * changes); `update` saves at once; `noteSeen` saves within a second (or at `flush`). A save
 * that meets another device's newer state (409) loads and verifies it, applies the pending
 * changes again, and saves once more. Record versions seen are merged by maximum, so they
 * are kept apart from the other changes (10,000 of them must not copy the state each).
 */
export class AccountStateBook {
  private changes: Change[] = [];
  private seen = new Map<string, number>();
  private view: AccountState;
  private saving: Promise<void> = Promise.resolve();
  private timer: ReturnType<typeof setTimeout> | undefined;
  /** Why the versions seen here are not saved yet (the last save failed), else null. */
  private seenFailure: unknown = null;
  /** The wait before trying again to save the versions seen (doubles while saves fail). */
  private retryMs = SEEN_SAVE_MS.retry;
  /** Whether failed saves of versions seen are tried again (while the workspace is open: `keepSaving`). */
  private retrying = false;
  private readonly listeners = new Set<() => void>();
  /** Changes when pins change (not when a record version is noted): used in query keys. */
  pinsRevision = 0;

  private constructor(
    private readonly deps: AccountStateDeps,
    private base: AccountState,
  ) {
    this.view = base;
  }

  /**
   * Loads and verifies the state; migrates the contacts blob when there is none yet.
   * @throws AccountStateError when it is missing, older than this device saw, or does not verify.
   */
  static async load(deps: AccountStateDeps): Promise<AccountStateBook> {
    const opened = await openStored(deps);
    if ('state' in opened) return new AccountStateBook(deps, opened.state);
    const migrated = await migrateContacts(deps);
    if (!migrated) throw new AccountStateError({ status: 'missing' });
    return new AccountStateBook(deps, migrated);
  }

  /** After the user chose to start over from a missing state: a new, empty state. */
  static async startOver(deps: AccountStateDeps): Promise<AccountStateBook> {
    return new AccountStateBook(deps, await createFirstAccountState(deps));
  }

  get pins(): readonly PinnedKey[] {
    return this.view.pins;
  }

  /** The latest consent statement I signed about each doctor (DESIGN §13; features/consents). */
  get consents(): readonly ConsentGiven[] {
    return this.view.consents;
  }

  pinOf(userId: string): PinnedKey | undefined {
    return this.view.pins.find((p) => p.userId === userId);
  }

  /**
   * What to call someone: the name I pinned with their key, else `named` (the directory's, or
   * undefined): a pinned person keeps the name I knew them by whatever the directory says today
   * (DESIGN §12 "Keys").
   */
  nameOf(userId: string, named: string): string;
  nameOf(userId: string, named: string | undefined): string | undefined;
  nameOf(userId: string, named: string | undefined): string | undefined {
    return this.pinOf(userId)?.name ?? named;
  }

  /** True only for a key the user compared and marked verified (DESIGN §12 "Keys"). */
  isVerified(userId: string, fingerprint: string): boolean {
    const pin = this.pinOf(userId);
    return !!pin && pin.verified && pin.fingerprint === fingerprint;
  }

  /** The highest version of the record seen on any of the user's devices (as of load) or here. */
  highestSeen(recordId: string): number | undefined {
    const here = this.seen.get(recordId);
    const stored = this.base.seen[recordId];
    return here === undefined ? stored : Math.max(here, stored ?? 0);
  }

  /** The last key-transparency head this account accepted (DESIGN §14), on any device. */
  get transparencyHead(): SignedTreeHead | null {
    return this.view.transparencyHead;
  }

  /**
   * Keeps a newly accepted head (it passed the consistency check from `transparencyHead`) and
   * saves it before resolving. Pins are unchanged, so nothing re-renders. A larger head another
   * device saved meanwhile is kept: the next check runs from it.
   */
  async keepTransparencyHead(head: SignedTreeHead): Promise<void> {
    const change: Change = (state) =>
      (state.transparencyHead?.size ?? -1) >= head.size
        ? state
        : { ...state, transparencyHead: head };
    await this.keep(change);
  }

  /** The largest consent book count of a patient I verified, on any device (features/consents). */
  consentBookOf(patientId: string): number | undefined {
    return this.view.consentBooks?.[patientId];
  }

  /** Keeps a patient's consent book count when it grew, saved before resolving. */
  async keepConsentBook(patientId: string, n: number): Promise<void> {
    if ((this.consentBookOf(patientId) ?? 0) >= n) return;
    const change: Change = (state) =>
      (state.consentBooks?.[patientId] ?? 0) >= n
        ? state
        : { ...state, consentBooks: { ...state.consentBooks, [patientId]: n } };
    await this.keep(change);
  }

  /** The head of the team's signed history this account last verified (DESIGN §13), on any device. */
  teamPin(teamId: string): PinnedTeam | undefined {
    return (this.view.teams ?? []).find((t) => t.teamId === teamId);
  }

  /**
   * Keeps the head of a team history that verified against `teamPin`, and saves it before
   * resolving when it is new or further on. A head another device pinned further is kept: the
   * next replay is checked against it. Nothing re-renders.
   */
  async keepTeamPin(pin: PinnedTeam): Promise<void> {
    const further = (state: AccountState) =>
      ((state.teams ?? []).find((t) => t.teamId === pin.teamId)?.seq ?? -1) < pin.seq;
    if (!further(this.view)) return;
    const change: Change = (state) =>
      further(state)
        ? { ...state, teams: [...(state.teams ?? []).filter((t) => t.teamId !== pin.teamId), pin] }
        : state;
    await this.keep(change);
  }

  /** The last access-trail checkpoint I signed or accepted for a record, on any device (DESIGN §12 "Audit"). */
  auditMark(recordId: string): AuditMark | undefined {
    return this.view.audit[recordId];
  }

  /** The records whose access trail I signed or accepted a checkpoint of, on any device. */
  auditMarkIds(): string[] {
    return Object.keys(this.view.audit);
  }

  /**
   * Keeps the marks of trails that passed and grew (`checkAuditTrail`'s `mark`) and saves them
   * before resolving, so a server that later withholds or rolls back a stored checkpoint still
   * meets them. A longer mark another device saved meanwhile is kept.
   */
  async keepAuditMarks(marks: ReadonlyMap<string, AuditMark>): Promise<void> {
    if (marks.size === 0) return;
    const change: Change = (state) => {
      const audit = { ...state.audit };
      for (const [id, mark] of marks) if ((audit[id]?.length ?? 0) < mark.length) audit[id] = mark;
      return { ...state, audit };
    };
    await this.keep(change);
  }

  /** True when I deleted the record, on any device (my signed word; the server's is not proof). */
  hasDeleted(recordId: string): boolean {
    return this.view.deletedRecords?.includes(recordId) ?? false;
  }

  /**
   * Keeps that I am deleting a record, and saves it before resolving: the access log then shows
   * its trail once the server no longer lists it, where a record left out without it is withheld.
   */
  async noteDeleted(recordId: string): Promise<void> {
    const change: Change = (state) =>
      state.deletedRecords?.includes(recordId)
        ? state
        : { ...state, deletedRecords: [...(state.deletedRecords ?? []), recordId] };
    await this.keep(change);
  }

  /** Key-transparency alerts the user acknowledged, on any device (DESIGN §14). */
  get acknowledgedAlerts(): readonly AcknowledgedAlert[] {
    // One empty array for "none": a React snapshot must be the same value until it changes.
    return this.view.ktAcknowledged ?? NO_ALERTS;
  }

  /**
   * Marks an alert acknowledged and saves it before resolving: it stays in the account state (it
   * is shown as acknowledged, never lost), and a new, different event has another id.
   */
  async acknowledgeAlert(id: string, at: Date): Promise<void> {
    const change: Change = (state) => {
      const kept = state.ktAcknowledged ?? [];
      if (kept.some((a) => a.id === id)) return state;
      return { ...state, ktAcknowledged: [...kept, { id, at: at.toISOString() }] };
    };
    this.changes.push(change);
    this.view = change(this.view);
    this.emit();
    await this.flush();
  }

  /**
   * Remembers that `version` of a record verified; saved within a second, and tried again while
   * saving fails (`unsavedSeen` says so meanwhile).
   */
  noteSeen(recordId: string, version: number): void {
    if ((this.highestSeen(recordId) ?? 0) >= version) return;
    this.seen.set(recordId, version);
    this.saveSeenIn(SEEN_SAVE_MS.first);
  }

  /**
   * Why versions of records verified here are not saved yet, else null. Until they are, another
   * device, or this one after a reload, cannot tell those records' older versions from current
   * ones (a server that refuses the save could then serve them).
   */
  get unsavedSeen(): unknown {
    return this.seenFailure;
  }

  /** Applies a change to the pins (or consents) and saves it before resolving. */
  async update(change: Change): Promise<void> {
    this.changes.push(change);
    this.view = change(this.view);
    this.pinsRevision += 1;
    this.emit();
    await this.flush();
  }

  /**
   * Reads the stored state again (verified as at load: never older than this device saw) and
   * applies the pending changes on top, before resolving, so what another device saved since
   * this one loaded (a record deleted there) is known here. One at a time with saves.
   */
  refresh(): Promise<void> {
    this.saving = this.saving
      .catch(() => undefined)
      .then(async () => {
        const stored = await this.stored();
        if (stored.version > this.base.version) this.rebase(stored, { pinsMayDiffer: true });
      });
    return this.saving;
  }

  /** Saves what is pending (one save at a time). */
  flush(): Promise<void> {
    if (this.timer) clearTimeout(this.timer);
    this.timer = undefined;
    this.saving = this.saving.catch(() => undefined).then(() => this.save());
    this.saving.then(
      () => this.afterSave(null),
      (error: unknown) => this.afterSave(error),
    );
    return this.saving;
  }

  private saveSeenIn(ms: number): void {
    this.timer ??= setTimeout(() => void this.flush().catch(() => undefined), ms);
  }

  /**
   * Tries failed saves of versions seen again until the returned `stop` (the workspace closes:
   * the key is locked then).
   */
  keepSaving(): () => void {
    this.retrying = true;
    if (this.seenFailure !== null) this.saveSeenIn(this.retryMs);
    return () => {
      this.retrying = false;
      if (this.timer) clearTimeout(this.timer);
      this.timer = undefined;
    };
  }

  /** Versions seen that a failed save left unsaved are said (`unsavedSeen`) and tried again. */
  private afterSave(error: unknown): void {
    const failure = error !== null && this.seen.size > 0 ? error : null;
    if (failure === null) this.retryMs = SEEN_SAVE_MS.retry;
    else if (this.retrying) {
      this.saveSeenIn(this.retryMs);
      this.retryMs = Math.min(this.retryMs * 2, SEEN_SAVE_MS.lastRetry);
    }
    if (failure === this.seenFailure) return;
    this.seenFailure = failure;
    this.emit();
  }

  /** Applies a change that re-renders nothing (pins unchanged) and saves it before resolving. */
  private async keep(change: Change): Promise<void> {
    this.changes.push(change);
    this.view = change(this.view);
    await this.flush();
  }

  /** The state the server stores now, verified as at load. */
  private async stored(): Promise<AccountState> {
    const opened = await openStored(this.deps);
    if (!('state' in opened)) throw new AccountStateError(opened);
    return opened.state;
  }

  subscribe(listener: () => void): () => void {
    this.listeners.add(listener);
    return () => this.listeners.delete(listener);
  }

  private emit(): void {
    for (const l of this.listeners) l();
  }

  private async save(): Promise<void> {
    for (let attempt = 0; this.changes.length > 0 || this.seen.size > 0; attempt++) {
      const changes = this.changes.length;
      const seen = [...this.seen];
      const merged = { ...this.base.seen };
      for (const [id, v] of seen) merged[id] = Math.max(v, merged[id] ?? 0);
      const next = {
        ...this.changes.reduce((s, c) => c(s), this.base),
        seen: merged,
        version: this.base.version + 1,
      };
      try {
        await store(this.deps, next);
      } catch (error) {
        // Another device saved first: take its (verified) state and apply ours on top.
        if (!isApiError(error, 'version-conflict') || attempt >= 3) throw error;
        const stored = await this.stored();
        // Nothing moved: the server still holds the claim of a save of ours it answered 503,
        // and gives it back within a moment (server lib/claims.ts).
        if (stored.version === this.base.version) await pause(500 * 2 ** attempt);
        this.rebase(stored, { pinsMayDiffer: true });
        continue;
      }
      this.changes = this.changes.slice(changes);
      for (const [id, v] of seen) if (this.seen.get(id) === v) this.seen.delete(id);
      this.rebase(next, { pinsMayDiffer: false });
    }
  }

  private rebase(base: AccountState, opts: { pinsMayDiffer: boolean }): void {
    this.base = base;
    const view = this.changes.reduce((s, c) => c(s), base);
    // Our own save: the same changes on the same base, so the pins are equal; keep the array
    // (the React snapshot) as it was.
    this.view = opts.pinsMayDiffer ? view : { ...view, pins: this.view.pins };
    if (!opts.pinsMayDiffer) return;
    this.pinsRevision += 1;
    this.emit();
  }
}

const pause = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

/** When versions seen are saved: a second after the first, then, while saves fail, again and again. */
const SEEN_SAVE_MS = { first: 1_000, retry: 2_000, lastRetry: 30_000 };
