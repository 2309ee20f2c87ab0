// The account state (DESIGN §12, issue 10): what a client must never forget, in one blob per user
// that the server stores but can neither read, edit, swap, nor roll back unnoticed.
//
// - Signed by and encrypted to the user's own key, bound to the user id and a purpose label.
// - A version counter inside the signed content; every device keeps a high-water mark (version +
//   content hash). A version below the mark is `rolled-back`; the same version with other
//   content is `forked` (the server showed two devices two different states).
// - Binary OpenPGP, compact JSON of arrays: with 1,000 pins and 10,000 records it stays within
//   the 50 ms budget (armored, it took 108–185 ms: armor costs a base64 pass each way).
import { CryptoError } from './errors';
import { bufferSource, fromUtf8, isIsoTime, toHex, utf8 } from './encoding';
import { publicPacketsHash, type UnlockedKey } from './keys';
import { decryptVerified, encryptSigned, type BadSignatureReason } from './messages';
import { pad, unpad } from './padding';
import { isAuditMark, type AuditMark } from './audit';
import type { ConsentSubjectKind } from './consents';
import { parseSignedTreeHead, type SignedTreeHead } from './transparency/heads';
import { isFingerprint, type Fingerprint, type UserId } from './types';

/**
 * Format of the sealed JSON; a newer one is refused as `unsupported-format` (STYLE.md §12).
 * 2 added a pin's remembered mismatch (a 9th pin column); a format 1 state reads as none.
 */
export const ACCOUNT_STATE_FORMAT = 2;
const PURPOSE = 'medseal.account-state';
/** Far above 1,000 pins and 10,000 records (~0.5 MB); a bound on what a server can make us parse. */
export const MAX_ACCOUNT_STATE_BYTES = 8 * 1024 * 1024;

/** A person's key as the user pinned it: on first contact (unverified) or after comparing (verified). */
export interface PinnedKey {
  userId: UserId;
  fingerprint: Fingerprint;
  verified: boolean;
  /** The name and role when pinned: what the user accepted, not what the directory says later. */
  name: string;
  role: string;
  pinnedAt: string;
  verifiedAt?: string;
  /** Fingerprints this person had before (kept to explain a change). */
  previous: Fingerprint[];
  /**
   * The user compared numbers for this key of theirs and said they do not match: sharing with
   * that key stays blocked until a comparison matches (which clears it). Absent: none.
   */
  mismatch?: { fingerprint: Fingerprint; at: string };
}

/**
 * The latest consent statement the user signed about one subject (DESIGN §13, `consents.ts`):
 * this person or team, with this key, may write for me — or, withdrawn, no longer may. Kept
 * after a withdrawal so the next statement's `seq` is higher and a replayed older one is seen.
 */
export interface ConsentGiven {
  kind: ConsentSubjectKind;
  subjectId: string;
  fingerprint: Fingerprint;
  since: string;
  seq: number;
  withdrawnAt?: string;
  /** A team only: the genesis its consent names (docs/care-teams.md). */
  genesis?: string;
}

/**
 * A care team this account relies on (DESIGN §13, docs/care-teams.md), as far as it verified the
 * team's signed history: the creation (which names the founder's admin key) and the latest
 * statement. A history served later must contain this head at `seq` and reach at least that
 * far, so a removal once seen cannot be hidden and another history cannot be served.
 */
export interface PinnedTeam {
  teamId: string;
  /** Hash of the creation statement. */
  genesis: string;
  /** The founder's key fingerprint: the team's admin key the user compares. */
  root: Fingerprint;
  /** Sequence number and hash of the latest statement verified. */
  seq: number;
  head: string;
}

/**
 * A key-transparency alert the user acknowledged (DESIGN §14): kept so it is not shown as new
 * again on every device, while a new, different event (another id) is.
 */
export interface AcknowledgedAlert {
  /** What the alert was about (the client's stable id of the event). */
  id: string;
  /** When the user acknowledged it. */
  at: string;
}

/** The acknowledged alerts kept; sealing drops the oldest beyond this. */
export const MAX_ACKNOWLEDGED_ALERTS = 200;

export interface AccountState {
  userId: UserId;
  /** 1 for the first state (written at registration); each save is the previous + 1. */
  version: number;
  /** The user's own key: fingerprint and SHA-256 of the whole public key (every subkey and binding). */
  ownKey: { fingerprint: Fingerprint; keyHash: string };
  pins: PinnedKey[];
  /** Highest version seen of each record, on any of the user's devices (record id → version). */
  seen: Record<string, number>;
  consents: ConsentGiven[];
  /**
   * Per record, the last access-trail checkpoint the user signed or accepted (DESIGN §12
   * "Audit"; `auditMarkOf`): a trail shorter than it, or not extending it, is tampered with,
   * whatever checkpoint the server stores.
   */
  audit: Record<string, AuditMark>;
  /**
   * A doctor's view of his patients' consents: per patient, the largest consent book count
   * (`consentBook`'s `n`) he verified; a set of her statements older than it is a replay.
   * Absent in states written before it.
   */
  consentBooks?: Record<string, number>;
  /**
   * The last key-transparency head this account accepted (DESIGN §14): every new head must be
   * consistent with it. Null until the first one. Stored as its JSON text.
   */
  transparencyHead: SignedTreeHead | null;
  /** Care teams verified (one entry per team; absent: none). */
  teams?: PinnedTeam[];
  /** Key-transparency alerts the user acknowledged, oldest first (absent: none). */
  ktAcknowledged?: AcknowledgedAlert[];
  /**
   * Records the user deleted, on any device (absent: none). The access log shows the trail of a
   * record the server no longer lists only when it is here: the server's own delete event is
   * not proof (DESIGN §12 "Audit").
   */
  deletedRecords?: string[];
}

/** What a device remembers of the newest state it has seen (kept outside the server). */
export interface HighWaterMark {
  version: number;
  /** Hex SHA-256 of the state's signed content. */
  hash: string;
}

export type OpenAccountStateResult =
  | { status: 'verified'; state: AccountState; mark: HighWaterMark; sealedAt: string }
  | { status: 'bad-signature'; reason: BadSignatureReason | 'signed-by-another-key' }
  | { status: 'not-for-me' }
  | { status: 'context-mismatch'; mismatches: ('purpose' | 'user' | 'own-key' | 'format')[] }
  | { status: 'rolled-back'; version: number; highWater: HighWaterMark }
  | { status: 'forked'; version: number; highWater: HighWaterMark };

// Wire format: arrays, not objects, so 10,000 entries do not repeat 10,000 sets of key names.
type PinRowV1 = [string, string, 0 | 1, string, string, string, string | null, string[]];
type PinRow = [...PinRowV1, [string, string] | null];
type SeenRow = [string, number];
type AuditRow = [string, number, string];
/** A team's genesis is a 7th element (states written before team consents have 6). */
type ConsentRow = [ConsentSubjectKind, string, string, string, number, string | null, string?];
type TeamRow = [string, string, string, number, string];
interface Wire {
  f: number;
  p: string;
  u: string;
  v: number;
  at: string;
  k: [string, string];
  pins: PinRow[];
  seen: SeenRow[];
  c: ConsentRow[];
  t: string | null;
  /** Teams; absent in states sealed before teams were pinned (read as none). */
  tm?: TeamRow[];
  /** Absent in states written before audit marks were kept. */
  a?: AuditRow[];
  /** Consent book counts per patient; absent in states written before them. */
  cb?: [string, number][];
  /** Acknowledged alerts as [id, at]; absent in states written before they existed. */
  ka?: [string, string][];
  /** Ids of the records the user deleted; absent in states written before they were kept. */
  dr?: string[];
}

function toWire(state: AccountState, sealedAt: string): Wire {
  return {
    f: ACCOUNT_STATE_FORMAT,
    p: PURPOSE,
    u: state.userId,
    v: state.version,
    at: sealedAt,
    k: [state.ownKey.fingerprint, state.ownKey.keyHash],
    pins: state.pins.map((p) => [
      p.userId,
      p.fingerprint,
      p.verified ? 1 : 0,
      p.name,
      p.role,
      p.pinnedAt,
      p.verifiedAt ?? null,
      p.previous,
      p.mismatch ? [p.mismatch.fingerprint, p.mismatch.at] : null,
    ]),
    seen: Object.entries(state.seen),
    c: state.consents.map((c): ConsentRow =>
      c.genesis === undefined
        ? [c.kind, c.subjectId, c.fingerprint, c.since, c.seq, c.withdrawnAt ?? null]
        : [c.kind, c.subjectId, c.fingerprint, c.since, c.seq, c.withdrawnAt ?? null, c.genesis],
    ),
    t: state.transparencyHead === null ? null : JSON.stringify(state.transparencyHead),
    tm: (state.teams ?? []).map((t) => [t.teamId, t.genesis, t.root, t.seq, t.head]),
    a: Object.entries(state.audit).map(([id, m]) => [id, m.length, m.head]),
    cb: Object.entries(state.consentBooks ?? {}),
    ka: (state.ktAcknowledged ?? []).slice(-MAX_ACKNOWLEDGED_ALERTS).map((a) => [a.id, a.at]),
    dr: state.deletedRecords ?? [],
  };
}

const isString = (v: unknown): v is string => typeof v === 'string';
const isVersion = (v: unknown): v is number => Number.isSafeInteger(v) && (v as number) >= 1;

/** A pin row of `format`: format 1 has no mismatch column. */
function isPinRow(r: unknown, format: number): r is PinRowV1 | PinRow {
  return (
    Array.isArray(r) &&
    r.length === (format === 1 ? 8 : 9) &&
    isString(r[0]) &&
    isFingerprint(r[1]) &&
    (r[2] === 0 || r[2] === 1) &&
    isString(r[3]) &&
    isString(r[4]) &&
    isIsoTime(r[5]) &&
    (r[6] === null || isIsoTime(r[6])) &&
    Array.isArray(r[7]) &&
    r[7].every(isFingerprint) &&
    (format === 1 ||
      r[8] === null ||
      (Array.isArray(r[8]) && r[8].length === 2 && isFingerprint(r[8][0]) && isIsoTime(r[8][1])))
  );
}

function isConsentRow(r: unknown): r is ConsentRow {
  return (
    Array.isArray(r) &&
    (r.length === 6 || (r.length === 7 && r[0] === 'team' && isString(r[6]))) &&
    (r[0] === 'person' || r[0] === 'team') &&
    isString(r[1]) &&
    isFingerprint(r[2]) &&
    isIsoTime(r[3]) &&
    isVersion(r[4]) &&
    (r[5] === null || isIsoTime(r[5]))
  );
}

function isTeamRow(r: unknown): r is TeamRow {
  return (
    Array.isArray(r) &&
    r.length === 5 &&
    isString(r[0]) &&
    isString(r[1]) &&
    isFingerprint(r[2]) &&
    Number.isSafeInteger(r[3]) &&
    (r[3] as number) >= 0 &&
    isString(r[4])
  );
}

/** The state in `wire`, or null when anything is not the format (types, ranges, duplicates). */
function fromWire(wire: Partial<Wire>, format: number): AccountState | null {
  const { u, v, k, pins, seen, c, t, tm = [], a = [], ka = [], cb = [], dr = [] } = wire;
  if (!isString(u) || !isVersion(v) || !Array.isArray(k) || !isFingerprint(k[0]) || !isString(k[1]))
    return null;
  if (
    !Array.isArray(pins) ||
    !Array.isArray(seen) ||
    !Array.isArray(c) ||
    !(t === null || isString(t))
  )
    return null;
  if (!pins.every((p) => isPinRow(p, format))) return null;
  const head = t === null ? null : headOf(t);
  if (head === undefined) return null;
  const seenMap: Record<string, number> = Object.create(null) as Record<string, number>;
  for (const row of seen) {
    if (
      !Array.isArray(row) ||
      row.length !== 2 ||
      !isString(row[0]) ||
      !isVersion(row[1]) ||
      row[0] in seenMap
    )
      return null;
    seenMap[row[0]] = row[1];
  }
  if (!c.every(isConsentRow) || new Set(c.map((r) => `${r[0]}:${r[1]}`)).size !== c.length)
    return null;
  if (!Array.isArray(a)) return null;
  const audit: Record<string, AuditMark> = Object.create(null) as Record<string, AuditMark>;
  for (const row of a) {
    if (!Array.isArray(row) || row.length !== 3 || !isString(row[0]) || row[0] in audit)
      return null;
    const mark = { length: row[1] as unknown, head: row[2] as unknown };
    if (!isAuditMark(mark)) return null;
    audit[row[0]] = mark;
  }
  if (new Set(pins.map((p) => p[0])).size !== pins.length) return null;
  if (!Array.isArray(cb)) return null;
  const consentBooks: Record<string, number> = Object.create(null) as Record<string, number>;
  for (const row of cb) {
    if (
      !Array.isArray(row) ||
      row.length !== 2 ||
      !isString(row[0]) ||
      !isVersion(row[1]) ||
      row[0] in consentBooks
    )
      return null;
    consentBooks[row[0]] = row[1];
  }
  if (!Array.isArray(tm) || !tm.every(isTeamRow) || new Set(tm.map((r) => r[0])).size !== tm.length)
    return null;
  const isAck = (r: unknown) =>
    Array.isArray(r) && r.length === 2 && isString(r[0]) && r[0].length <= 512 && isIsoTime(r[1]);
  if (
    !Array.isArray(ka) ||
    ka.length > MAX_ACKNOWLEDGED_ALERTS ||
    !ka.every(isAck) ||
    new Set(ka.map((r) => r[0])).size !== ka.length
  )
    return null;
  if (!Array.isArray(dr) || !dr.every(isString) || new Set(dr).size !== dr.length) return null;
  return {
    userId: u as UserId,
    version: v,
    ownKey: { fingerprint: k[0], keyHash: k[1] },
    pins: pins.map(
      ([userId, fingerprint, verified, name, role, pinnedAt, verifiedAt, previous, mismatch]) => ({
        userId: userId as UserId,
        fingerprint: fingerprint as Fingerprint,
        verified: verified === 1,
        name,
        role,
        pinnedAt,
        ...(verifiedAt === null ? {} : { verifiedAt }),
        previous: previous as Fingerprint[],
        ...(mismatch
          ? { mismatch: { fingerprint: mismatch[0] as Fingerprint, at: mismatch[1] } }
          : {}),
      }),
    ),
    seen: seenMap,
    consents: c.map(([kind, subjectId, fingerprint, since, seq, withdrawnAt, genesis]) => ({
      kind,
      subjectId,
      fingerprint: fingerprint as Fingerprint,
      since,
      seq,
      ...(withdrawnAt === null ? {} : { withdrawnAt }),
      ...(genesis === undefined ? {} : { genesis }),
    })),
    transparencyHead: head,
    teams: tm.map(([teamId, genesis, root, seq, teamHead]) => ({
      teamId,
      genesis,
      root: root as Fingerprint,
      seq,
      head: teamHead,
    })),
    audit,
    consentBooks,
    ktAcknowledged: ka.map(([id, at]) => ({ id, at })),
    deletedRecords: dr,
  };
}

/** The stored head, or undefined when the text is not one. */
function headOf(text: string): SignedTreeHead | undefined {
  try {
    return parseSignedTreeHead(JSON.parse(text)) ?? undefined;
  } catch {
    return undefined;
  }
}

async function sha256Hex(bytes: Uint8Array): Promise<string> {
  return toHex(
    new Uint8Array(await globalThis.crypto.subtle.digest('SHA-256', bufferSource(bytes))),
  );
}

/** The `ownKey` entry for a key: what a later open compares the unlocked key with. */
export async function ownKeyOf(key: UnlockedKey): Promise<AccountState['ownKey']> {
  return { fingerprint: key.fingerprint, keyHash: await publicPacketsHash(key.key) };
}

/**
 * Signs and encrypts the state to the key holder only, as binary OpenPGP, and returns the
 * high-water mark the saving device keeps once the server stored it.
 * @throws CryptoError `invalid-argument` (a state that is not the format, or not of this key).
 */
export async function sealAccountState(opts: {
  state: AccountState;
  key: UnlockedKey;
}): Promise<{ message: Uint8Array; mark: HighWaterMark }> {
  const { state, key } = opts;
  const own = await ownKeyOf(key);
  if (state.ownKey.fingerprint !== own.fingerprint || state.ownKey.keyHash !== own.keyHash) {
    throw new CryptoError(
      'invalid-argument',
      'the account state names another key than the one sealing it',
    );
  }
  let json: Uint8Array;
  try {
    const wire = toWire(state, new Date().toISOString());
    if (!fromWire(wire, ACCOUNT_STATE_FORMAT)) throw new TypeError('not an account state');
    json = utf8(JSON.stringify(wire));
  } catch (cause) {
    throw new CryptoError('invalid-argument', 'not a valid account state', { cause });
  }
  const message = (await encryptSigned({
    data: pad(json),
    signer: key,
    recipients: [key.key.toPublic()],
    format: 'binary',
  })) as Uint8Array;
  return { message, mark: { version: state.version, hash: await sha256Hex(json) } };
}

/**
 * Opens a stored account state: it must be signed by `key`, for `userId`, name `key` as the
 * user's own (whole public key), and be no older than `highWater` (this device's mark), nor
 * another state under the mark's version.
 * @throws CryptoError `unsupported-format` (an authentic state of a newer format).
 */
export async function openAccountState(opts: {
  message: Uint8Array;
  userId: string;
  key: UnlockedKey;
  highWater?: HighWaterMark;
}): Promise<OpenAccountStateResult> {
  const { key } = opts;
  const outcome = await decryptVerified({
    message: opts.message,
    myKey: key,
    authorPublicKey: key.key.toPublic(),
    maxBytes: MAX_ACCOUNT_STATE_BYTES,
  });
  if (outcome.status === 'unknown-author-key')
    return { status: 'bad-signature', reason: 'signed-by-another-key' };
  if (outcome.status !== 'ok') return outcome;
  let json: Uint8Array;
  let wire: Partial<Wire>;
  try {
    json = unpad(outcome.data);
    wire = JSON.parse(fromUtf8(json)) as Partial<Wire>;
  } catch {
    return { status: 'context-mismatch', mismatches: ['format'] };
  }
  if (typeof wire !== 'object' || wire === null || Array.isArray(wire))
    return { status: 'context-mismatch', mismatches: ['format'] };
  if (wire.p !== PURPOSE) return { status: 'context-mismatch', mismatches: ['purpose'] };
  // An authentic state from a newer app version: say so instead of calling it tampered.
  if (typeof wire.f === 'number' && wire.f > ACCOUNT_STATE_FORMAT) {
    throw new CryptoError(
      'unsupported-format',
      `account state format ${wire.f} is not supported by this version of the app`,
    );
  }
  const state =
    (wire.f === 1 || wire.f === ACCOUNT_STATE_FORMAT) && isIsoTime(wire.at)
      ? fromWire(wire, wire.f)
      : null;
  if (!state || !isIsoTime(wire.at)) return { status: 'context-mismatch', mismatches: ['format'] };
  const mismatches: ('user' | 'own-key')[] = [];
  if (state.userId !== opts.userId) mismatches.push('user');
  const own = await ownKeyOf(key);
  if (state.ownKey.fingerprint !== own.fingerprint || state.ownKey.keyHash !== own.keyHash)
    mismatches.push('own-key');
  if (mismatches.length > 0) return { status: 'context-mismatch', mismatches };
  const mark = { version: state.version, hash: await sha256Hex(json) };
  const high = opts.highWater;
  if (high && mark.version < high.version)
    return { status: 'rolled-back', version: mark.version, highWater: high };
  if (high && mark.version === high.version && mark.hash !== high.hash)
    return { status: 'forked', version: mark.version, highWater: high };
  return { status: 'verified', state, mark, sealedAt: wire.at };
}
