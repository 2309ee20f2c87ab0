// The client's key-transparency checks (DESIGN §12, §14), run in the worker. The log key is the
// one shipped with the app; the stored head is the one kept in the account state.
import { CryptoError, isCryptoError } from '../errors';
import { normaliseEmail } from '../secrets';
import type { Fingerprint } from '../types';
import {
  bindingLeafHash,
  keyIdentityOf,
  parseBinding,
  type LoggedBinding,
  type UserKeyBinding,
} from './bindings';
import { hexToBytes, verifyTreeHead, type SignedTreeHead } from './heads';
import { verifyConsistency, verifyInclusion } from './merkle';

/** A leaf with its inclusion proof (hashes as hex, leaf side first) against some head. */
export interface ProvenBinding {
  leaf: LoggedBinding;
  proof: string[];
}

function proofBytes(proof: readonly string[]): Uint8Array[] {
  if (!Array.isArray(proof))
    throw new CryptoError('kt-malformed', 'a proof must be a list of hashes');
  return proof.map(hexToBytes);
}

/**
 * Accepts a new signed head only if it is signed by the log key and extends the stored one.
 * @returns the head to store next.
 * @throws CryptoError `kt-bad-head-signature`; `kt-head-older` when it is smaller or older than
 *   the stored head (a rollback); `kt-inconsistent` when the log was rewritten or forked;
 *   `kt-malformed`.
 */
export function checkHeadUpdate(opts: {
  stored: SignedTreeHead | null;
  next: SignedTreeHead;
  /** Consistency proof from stored.size to next.size (empty without a stored head). */
  consistency: readonly string[];
  logPublicKey: string;
}): SignedTreeHead {
  const { stored, next } = opts;
  verifyTreeHead(next, opts.logPublicKey);
  if (stored === null) return next;
  if (next.size < stored.size || next.timestamp < stored.timestamp) {
    throw new CryptoError('kt-head-older', 'the log showed an older tree than one already seen', {
      details: { storedSize: stored.size, size: next.size },
    });
  }
  verifyConsistency(
    stored.size,
    next.size,
    hexToBytes(stored.root),
    hexToBytes(next.root),
    proofBytes(opts.consistency),
  );
  return next;
}

function checkIncluded(head: SignedTreeHead, proven: ProvenBinding): void {
  const { leaf } = proven;
  verifyInclusion(
    leaf.index,
    head.size,
    bindingLeafHash(leaf.data),
    proofBytes(proven.proof),
    hexToBytes(head.root),
  );
}

/**
 * Checks that a key taken from the directory is the one the log binds to this person, at a
 * leaf included under `head` (a head that already passed checkHeadUpdate).
 * @returns the binding.
 * @throws CryptoError `kt-binding-mismatch` when the leaf names another person or key;
 *   `kt-bad-proof` when the leaf is not in the tree; `kt-malformed`; key errors of the key.
 */
export async function verifyKeyInLog(opts: {
  head: SignedTreeHead;
  armoredKey: string;
  /** Who the directory said it is; `email` only when the user looked the person up by it. */
  expect: { userId: string; email?: string };
  proven: ProvenBinding;
}): Promise<UserKeyBinding> {
  const binding = parseBinding(opts.proven.leaf.data);
  const key = await keyIdentityOf(opts.armoredKey);
  const same =
    binding.userId === opts.expect.userId &&
    (opts.expect.email === undefined || binding.email === normaliseEmail(opts.expect.email)) &&
    binding.fingerprint === key.fingerprint &&
    binding.keySha256 === key.keySha256;
  if (!same)
    throw new CryptoError(
      'kt-binding-mismatch',
      'the log binds another key or person to this leaf',
    );
  checkIncluded(opts.head, opts.proven);
  return binding;
}

/** Outcome of self-monitoring: the UI shows each status in its own words (STYLE.md §20). */
export type OwnBindingsResult =
  | { status: 'ok' }
  /** Keys bound to this account that are not its own: "A different key was published for you on …". */
  | { status: 'foreign-key'; bindings: { index: number; fingerprint: Fingerprint; at: number }[] }
  /** The log has no binding for the account's own key: the directory serves a key it never logged. */
  | { status: 'own-key-missing' };

/**
 * Self-monitoring at login: every binding the log holds for this account, each proven under
 * `head`, must name one of the account's own keys (fingerprint and whole key: the same primary
 * key with a subkey dropped or swapped is not ours).
 * @throws CryptoError `kt-bad-proof`, `kt-binding-mismatch` (a leaf for someone else served as
 *   ours), `kt-malformed`.
 */
export function checkOwnBindings(opts: {
  head: SignedTreeHead;
  userId: string;
  /** The account's own keys: a binding counts as ours only with the same whole key. */
  ownKeys: readonly { fingerprint: string; keySha256: string }[];
  history: readonly ProvenBinding[];
}): OwnBindingsResult {
  const foreign: { index: number; fingerprint: Fingerprint; at: number }[] = [];
  let ownSeen = false;
  for (const proven of opts.history) {
    const binding = parseBinding(proven.leaf.data);
    if (binding.userId !== opts.userId) {
      throw new CryptoError(
        'kt-binding-mismatch',
        'the history holds a binding for another account',
      );
    }
    checkIncluded(opts.head, proven);
    const ours = opts.ownKeys.some(
      (k) => k.fingerprint === binding.fingerprint && k.keySha256 === binding.keySha256,
    );
    if (ours) ownSeen = true;
    else
      foreign.push({ index: proven.leaf.index, fingerprint: binding.fingerprint, at: binding.at });
  }
  if (foreign.length > 0) return { status: 'foreign-key', bindings: foreign };
  return ownSeen ? { status: 'ok' } : { status: 'own-key-missing' };
}

/** Outcome of comparing the reader's head with the one an author put in a signed record. */
export type GossipResult =
  { status: 'consistent' } | { status: 'split-view'; own: SignedTreeHead; theirs: SignedTreeHead };

/**
 * Gossip (DESIGN §14): the head another person saw must be consistent with ours; otherwise the
 * log shows different trees to different people, which is a security alert.
 * @param proof consistency proof from the smaller of the two heads to the larger.
 * @throws CryptoError `kt-bad-head-signature` when their head is not signed by the log key.
 */
export function checkGossipHead(opts: {
  own: SignedTreeHead;
  theirs: SignedTreeHead;
  proof: readonly string[];
  logPublicKey: string;
}): GossipResult {
  const { own, theirs } = opts;
  verifyTreeHead(theirs, opts.logPublicKey);
  const [small, large] = own.size <= theirs.size ? [own, theirs] : [theirs, own];
  try {
    verifyConsistency(
      small.size,
      large.size,
      hexToBytes(small.root),
      hexToBytes(large.root),
      proofBytes(opts.proof),
    );
  } catch (error) {
    if (isCryptoError(error, 'kt-inconsistent')) return { status: 'split-view', own, theirs };
    throw error;
  }
  return { status: 'consistent' };
}
