// Access trails (DESIGN §8, §12 "Audit"): the server keeps a hash chain of who did what to each
// record, but its own verdict on that chain is worth nothing against a malicious operator. The
// owner's client recomputes every link here, and signs checkpoints (length + head hash) that the
// server stores: a trail that no longer extends the last signed checkpoint — events removed
// from its end, or the chain rewritten and re-hashed — is `shortened` or `diverged`.
import * as openpgp from 'openpgp';
import { sha256 } from '@noble/hashes/sha2.js';
import { toHex, utf8 } from './encoding';
import { parsePublicKeyCached, type UnlockedKey } from './keys';
import { signInline, statementBytes, verifyStatement } from './signing';

/** `prevHash` of a chain's first event. */
export const AUDIT_GENESIS_HASH = '0'.repeat(64);
const EVENT_LABEL = 'medseal/v1/audit';
const CHECKPOINT_PURPOSE = 'medseal/v1/audit-checkpoint';

/** One link of a record's access trail, as the server stores and sends it. */
export interface AuditLink {
  recordId: string;
  seq: number;
  actorId: string;
  action: string;
  at: string;
  prevHash: string;
  hash: string;
}

/** What the record's owner signed about its trail: its first `length` events end in `head`. */
export interface AuditCheckpoint {
  recordId: string;
  length: number;
  head: string;
}

/**
 * What the owner's account state keeps of the last checkpoint she signed or accepted for a
 * record (DESIGN §12): its length and the first 128 bits of its head (32 hex). Kept in her
 * signed state, so a server that withholds or rolls back the stored checkpoint does not lower
 * the bar. 128 bits keep 10,000 records within the state's budget; matching them with a
 * rewritten chain is a second preimage on SHA-256 truncated to 128 bits.
 */
export interface AuditMark {
  length: number;
  head: string;
}

const MARK_HEAD_CHARS = 32;

/** The mark the account state keeps for a trail that passed at `length` with `head`. */
export function auditMarkOf(trail: { length: number; head: string }): AuditMark {
  return { length: trail.length, head: trail.head.slice(0, MARK_HEAD_CHARS) };
}

/** True when `v` is a mark as auditMarkOf makes it. */
export function isAuditMark(v: { length: unknown; head: unknown }): v is AuditMark {
  return (
    Number.isSafeInteger(v.length) &&
    (v.length as number) >= 1 &&
    typeof v.head === 'string' &&
    new RegExp(`^[0-9a-f]{${MARK_HEAD_CHARS}}$`).test(v.head)
  );
}

export type AuditTrailResult =
  /**
   * Every link recomputed, and the trail extends the signed checkpoint (if one is stored) and
   * the mark kept in the account state; `mark` is what to keep there now.
   */
  | {
      status: 'intact';
      length: number;
      head: string;
      checkpoint: AuditCheckpoint | null;
      mark: AuditMark;
    }
  /** Link `seq` is not the hash of its event and the link before it (changed, removed, reordered). */
  | { status: 'broken'; seq: number }
  /** Shorter than the owner already signed: events were removed from its end. */
  | { status: 'shortened'; length: number; checkpointLength: number }
  /** At the checkpoint's position the trail has another event than the one the owner signed. */
  | { status: 'diverged'; seq: number }
  /** The stored checkpoint is not signed by the owner's key for this record. */
  | { status: 'bad-checkpoint' };

/**
 * SHA-256 over the canonical event (fixed order, label first) with its `prevHash`, so changing,
 * removing or reordering any event breaks every later link. The server links its chain with
 * this same function.
 */
export function auditEventHash(e: Omit<AuditLink, 'hash'>): string {
  const canonical = JSON.stringify([
    EVENT_LABEL,
    e.recordId,
    e.seq,
    e.actorId,
    e.action,
    e.at,
    e.prevHash,
  ]);
  return toHex(sha256(utf8(canonical)));
}

/**
 * Recomputes a record's chain, events in `seq` order: numbered from 1 without gaps, each of
 * this record, each `prevHash` the previous link, each hash recomputed. The first bad `seq`,
 * or the trail's length and head.
 */
export function checkAuditChain(
  recordId: string,
  events: readonly AuditLink[],
): { status: 'intact'; length: number; head: string } | { status: 'broken'; seq: number } {
  let head = AUDIT_GENESIS_HASH;
  for (const [i, e] of events.entries()) {
    if (
      e.recordId !== recordId ||
      e.seq !== i + 1 ||
      e.prevHash !== head ||
      auditEventHash(e) !== e.hash
    )
      return { status: 'broken', seq: i + 1 };
    head = e.hash;
  }
  return { status: 'intact', length: events.length, head };
}

function isCheckpoint(value: unknown): value is AuditCheckpoint {
  const c = value as Partial<AuditCheckpoint> | null;
  return (
    typeof c === 'object' &&
    c !== null &&
    Object.keys(c).length === 3 &&
    typeof c.recordId === 'string' &&
    Number.isSafeInteger(c.length) &&
    (c.length ?? 0) >= 1 &&
    typeof c.head === 'string' &&
    /^[0-9a-f]{64}$/.test(c.head)
  );
}

/** Signs a checkpoint with the owner's key (an inline-signed statement, armored). */
export function signAuditCheckpoint(opts: {
  checkpoint: AuditCheckpoint;
  key: UnlockedKey;
}): Promise<string> {
  const { recordId, length, head } = opts.checkpoint;
  return signInline(
    statementBytes(CHECKPOINT_PURPOSE, 'checkpoint', { recordId, length, head }),
    opts.key,
  );
}

/** The checkpoint a statement signed by exactly `ownerPublicKey` says, or null when it does not verify. */
export async function verifyAuditCheckpoint(opts: {
  signed: string;
  ownerPublicKey: string | openpgp.Key;
}): Promise<AuditCheckpoint | null> {
  let key: openpgp.Key;
  try {
    key =
      typeof opts.ownerPublicKey === 'string'
        ? await parsePublicKeyCached(opts.ownerPublicKey)
        : opts.ownerPublicKey;
  } catch {
    return null;
  }
  const value = await verifyStatement(opts.signed, key, CHECKPOINT_PURPOSE, 'checkpoint');
  return isCheckpoint(value) ? value : null;
}

/** `shortened` / `diverged` when the trail does not extend a mark of `length` ending in `head` (a prefix of the link's hash). */
function extendsMark(events: readonly AuditLink[], mark: AuditMark): AuditTrailResult | null {
  if (events.length < mark.length)
    return { status: 'shortened', length: events.length, checkpointLength: mark.length };
  if (!events[mark.length - 1]?.hash.startsWith(mark.head))
    return { status: 'diverged', seq: mark.length };
  return null;
}

/**
 * The owner's check of one record's trail (DESIGN §12 "Audit"): the chain recomputed, and the
 * last checkpoint the owner signed (as the server stores it; null when none) verified with the
 * owner's key and extended by the trail. The trail must also extend `seen`, the mark her signed
 * account state keeps of the last checkpoint she signed or accepted on any device: a server that
 * withholds the stored checkpoint, or serves an older one, gains nothing. Whatever verdict the
 * server sent is not an input.
 */
export async function checkAuditTrail(opts: {
  recordId: string;
  events: readonly AuditLink[];
  signedCheckpoint: string | null;
  ownerKey: UnlockedKey;
  seen?: AuditMark;
}): Promise<AuditTrailResult> {
  const chain = checkAuditChain(opts.recordId, opts.events);
  if (chain.status === 'broken') return chain;
  const fromState = opts.seen ? extendsMark(opts.events, opts.seen) : null;
  if (fromState) return fromState;
  const mark = auditMarkOf(chain);
  if (opts.signedCheckpoint === null) return { ...chain, checkpoint: null, mark };
  const checkpoint = await verifyAuditCheckpoint({
    signed: opts.signedCheckpoint,
    ownerPublicKey: opts.ownerKey.key.toPublic(),
  });
  if (!checkpoint || checkpoint.recordId !== opts.recordId) return { status: 'bad-checkpoint' };
  return extendsMark(opts.events, checkpoint) ?? { ...chain, checkpoint, mark };
}
