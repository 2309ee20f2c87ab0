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
import type { ConsentSubjectKind } from './consents';
import { parseSignedTreeHead, type SignedTreeHead } from './transparency/heads';
import { isFingerprint, type Fingerprint, type UserId } from './types';

/** Format of the sealed JSON; a newer one is refused as `unsupported-format` (STYLE.md §12). */
export const ACCOUNT_STATE_FORMAT = 1;
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
}

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
   * The last key-transparency head this account accepted (DESIGN §14): every new head must be
   * consistent with it. Null until the first one. Stored as its JSON text.
   */
  transparencyHead: SignedTreeHead | null;
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
type PinRow = [string, string, 0 | 1, string, string, string, string | null, string[]];
type SeenRow = [string, number];
type ConsentRow = [ConsentSubjectKind, string, string, string, number, string | null];
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
}

function toWire(state: AccountState, sealedAt: string): Wire {
  return {
    f: ACCOUNT_STATE_FORMAT,
    p: PURPOSE,
    u: state.userId,
    v: state.version,
    at: sealedAt,
    k: [state.ownKey.fingerprint, state.ownKey.keyHash],
    pins: state.pins.map((p) => [p.userId, p.fingerprint, p.verified ? 1 : 0, p.name, p.role, p.pinnedAt, p.verifiedAt ?? null, p.previous]),
    seen: Object.entries(state.seen),
    c: state.consents.map((c) => [c.kind, c.subjectId, c.fingerprint, c.since, c.seq, c.withdrawnAt ?? null]),
    t: state.transparencyHead === null ? null : JSON.stringify(state.transparencyHead),
  };
}

const isString = (v: unknown): v is string => typeof v === 'string';
const isVersion = (v: unknown): v is number => Number.isSafeInteger(v) && (v as number) >= 1;

function isPinRow(r: unknown): r is PinRow {
  return (
    Array.isArray(r) &&
    r.length === 8 &&
    isString(r[0]) &&
    isFingerprint(r[1]) &&
    (r[2] === 0 || r[2] === 1) &&
    isString(r[3]) &&
    isString(r[4]) &&
    isIsoTime(r[5]) &&
    (r[6] === null || isIsoTime(r[6])) &&
    Array.isArray(r[7]) &&
    r[7].every(isFingerprint)
  );
}

function isConsentRow(r: unknown): r is ConsentRow {
  return (
    Array.isArray(r) &&
    r.length === 6 &&
    (r[0] === 'person' || r[0] === 'team') &&
    isString(r[1]) &&
    isFingerprint(r[2]) &&
    isIsoTime(r[3]) &&
    isVersion(r[4]) &&
    (r[5] === null || isIsoTime(r[5]))
  );
}

/** The state in `wire`, or null when anything is not the format (types, ranges, duplicates). */
function fromWire(wire: Partial<Wire>): AccountState | null {
  const { u, v, k, pins, seen, c, t } = wire;
  if (!isString(u) || !isVersion(v) || !Array.isArray(k) || !isFingerprint(k[0]) || !isString(k[1])) return null;
  if (!Array.isArray(pins) || !Array.isArray(seen) || !Array.isArray(c) || !(t === null || isString(t))) return null;
  if (!pins.every(isPinRow)) return null;
  const head = t === null ? null : headOf(t);
  if (head === undefined) return null;
  const seenMap: Record<string, number> = Object.create(null) as Record<string, number>;
  for (const row of seen) {
    if (!Array.isArray(row) || row.length !== 2 || !isString(row[0]) || !isVersion(row[1]) || row[0] in seenMap) return null;
    seenMap[row[0]] = row[1];
  }
  if (!c.every(isConsentRow) || new Set(c.map((r) => `${r[0]}:${r[1]}`)).size !== c.length) return null;
  if (new Set(pins.map((p) => p[0])).size !== pins.length) return null;
  return {
    userId: u as UserId,
    version: v,
    ownKey: { fingerprint: k[0], keyHash: k[1] },
    pins: pins.map(([userId, fingerprint, verified, name, role, pinnedAt, verifiedAt, previous]) => ({
      userId: userId as UserId,
      fingerprint: fingerprint as Fingerprint,
      verified: verified === 1,
      name,
      role,
      pinnedAt,
      ...(verifiedAt === null ? {} : { verifiedAt }),
      previous: previous as Fingerprint[],
    })),
    seen: seenMap,
    consents: c.map(([kind, subjectId, fingerprint, since, seq, withdrawnAt]) => ({
      kind,
      subjectId,
      fingerprint: fingerprint as Fingerprint,
      since,
      seq,
      ...(withdrawnAt === null ? {} : { withdrawnAt }),
    })),
    transparencyHead: head,
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
  return toHex(new Uint8Array(await globalThis.crypto.subtle.digest('SHA-256', bufferSource(bytes))));
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
export async function sealAccountState(opts: { state: AccountState; key: UnlockedKey }): Promise<{ message: Uint8Array; mark: HighWaterMark }> {
  const { state, key } = opts;
  const own = await ownKeyOf(key);
  if (state.ownKey.fingerprint !== own.fingerprint || state.ownKey.keyHash !== own.keyHash) {
    throw new CryptoError('invalid-argument', 'the account state names another key than the one sealing it');
  }
  let json: Uint8Array;
  try {
    const wire = toWire(state, new Date().toISOString());
    if (!fromWire(wire)) throw new TypeError('not an account state');
    json = utf8(JSON.stringify(wire));
  } catch (cause) {
    throw new CryptoError('invalid-argument', 'not a valid account state', { cause });
  }
  const message = (await encryptSigned({ data: pad(json), signer: key, recipients: [key.key.toPublic()], format: 'binary' })) as Uint8Array;
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
  const outcome = await decryptVerified({ message: opts.message, myKey: key, authorPublicKey: key.key.toPublic(), maxBytes: MAX_ACCOUNT_STATE_BYTES });
  if (outcome.status === 'unknown-author-key') return { status: 'bad-signature', reason: 'signed-by-another-key' };
  if (outcome.status !== 'ok') return outcome;
  let json: Uint8Array;
  let wire: Partial<Wire>;
  try {
    json = unpad(outcome.data);
    wire = JSON.parse(fromUtf8(json)) as Partial<Wire>;
  } catch {
    return { status: 'context-mismatch', mismatches: ['format'] };
  }
  if (typeof wire !== 'object' || wire === null || Array.isArray(wire)) return { status: 'context-mismatch', mismatches: ['format'] };
  if (wire.p !== PURPOSE) return { status: 'context-mismatch', mismatches: ['purpose'] };
  // An authentic state from a newer app version: say so instead of calling it tampered.
  if (typeof wire.f === 'number' && wire.f > ACCOUNT_STATE_FORMAT) {
    throw new CryptoError('unsupported-format', `account state format ${wire.f} is not supported by this version of the app`);
  }
  const state = wire.f === ACCOUNT_STATE_FORMAT && isIsoTime(wire.at) ? fromWire(wire) : null;
  if (!state || !isIsoTime(wire.at)) return { status: 'context-mismatch', mismatches: ['format'] };
  const mismatches: ('user' | 'own-key')[] = [];
  if (state.userId !== opts.userId) mismatches.push('user');
  const own = await ownKeyOf(key);
  if (state.ownKey.fingerprint !== own.fingerprint || state.ownKey.keyHash !== own.keyHash) mismatches.push('own-key');
  if (mismatches.length > 0) return { status: 'context-mismatch', mismatches };
  const mark = { version: state.version, hash: await sha256Hex(json) };
  const high = opts.highWater;
  if (high && mark.version < high.version) return { status: 'rolled-back', version: mark.version, highWater: high };
  if (high && mark.version === high.version && mark.hash !== high.hash) return { status: 'forked', version: mark.version, highWater: high };
  return { status: 'verified', state, mark, sealedAt: wire.at };
}
