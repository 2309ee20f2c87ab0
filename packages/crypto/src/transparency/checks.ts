// The client's key-transparency checks (DESIGN §12, §14), run in the worker. The log key is the
// one shipped with the app; the stored head is the one kept in the account state.
import { CryptoError, isCryptoError } from '../errors';
import { normaliseEmail } from '../secrets';
import {
  peekTeamStatement,
  statementPlace,
  teamStatementHash,
  type TeamState,
} from '../teams/statements';
import type { Fingerprint } from '../types';
import {
  BINDING_VERSION,
  bindingLeafHash,
  emailCommitment,
  keyIdentityOf,
  memberSubject,
  parseBinding,
  teamSubject,
  type KtBinding,
  type LoggedBinding,
  type TeamMemberBinding,
  type UserKeyBinding,
} from './bindings';
import { headMapRoot, hexToBytes, verifyTreeHead, type SignedTreeHead } from './heads';
import { verifyMapLookup, withheldLeaves, type MapProof } from './map';
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
  // Two signed maps for one tree are a split view: the same size's map can be only one.
  if (
    next.size === stored.size &&
    stored.v === 2 &&
    next.v === 2 &&
    next.mapRoot !== stored.mapRoot
  )
    throw new CryptoError('kt-inconsistent', 'the log signed two subject maps for one tree');
  verifyConsistency(
    stored.size,
    next.size,
    hexToBytes(stored.root),
    hexToBytes(next.root),
    proofBytes(opts.consistency),
  );
  return next;
}

/** A leaf that must be of one kind: another kind served in its place is a mismatch. */
function parseKind<T extends KtBinding['type']>(
  data: string,
  type: T,
): Extract<KtBinding, { type: T }> {
  const binding = parseBinding(data);
  if (binding.type !== type)
    throw new CryptoError('kt-binding-mismatch', `the log leaf is not a ${type} binding`);
  return binding as Extract<KtBinding, { type: T }>;
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
 * How many of a subject's leaves a listing withholds, by the map `head` signs (issue 12): the
 * listing (each leaf already proven and the subject's) must be all of them, in log order.
 * @throws CryptoError `kt-no-map` for a head without a map; `kt-bad-proof` when the lookup
 *   proof is wrong; `kt-map-mismatch` when the listing holds leaves the map does not.
 */
function withheldFrom(
  head: SignedTreeHead,
  subject: string,
  history: readonly ProvenBinding[],
  map: MapProof,
): number {
  const value = verifyMapLookup(headMapRoot(head), subject, map);
  return withheldLeaves(
    value,
    history.map((p) => ({ index: p.leaf.index, leafHash: bindingLeafHash(p.leaf.data) })),
  );
}

/**
 * Checks that a key taken from the directory is the one the log binds to this person, at a
 * leaf included under `head` (a head that already passed checkHeadUpdate), and that the leaf is
 * the person's latest: the map `head` signs names it as the last of theirs. So a leaf served as
 * someone's key is always one their self-monitoring counts, and an older key is never served
 * as their current one.
 * @returns the binding.
 * @throws CryptoError `kt-binding-mismatch` when the leaf names another person or key, or is
 *   not their latest; `kt-bad-proof` when the leaf is not in the tree or the map lookup is
 *   wrong; `kt-no-map`; `kt-malformed`; key errors of the key.
 */
export async function verifyKeyInLog(opts: {
  head: SignedTreeHead;
  armoredKey: string;
  /**
   * Who the directory said it is; `email` only when the user looked the person up by it, with
   * the nonce that lookup answered (`emailNonce`: a version 2 leaf commits to the email under it).
   */
  expect: { userId: string; email?: string; emailNonce?: string };
  proven: ProvenBinding;
  /** The map's lookup proof for the person (the binding answer carries it). */
  map: MapProof;
}): Promise<UserKeyBinding> {
  const binding = parseKind(opts.proven.leaf.data, 'user-key');
  const key = await keyIdentityOf(opts.armoredKey);
  const same =
    binding.userId === opts.expect.userId &&
    bindsEmail(binding, opts.expect) &&
    binding.fingerprint === key.fingerprint &&
    binding.keySha256 === key.keySha256;
  if (!same)
    throw new CryptoError(
      'kt-binding-mismatch',
      'the log binds another key or person to this leaf',
    );
  checkIncluded(opts.head, opts.proven);
  const latest = verifyMapLookup(headMapRoot(opts.head), binding.userId, opts.map);
  if (latest?.lastIndex !== opts.proven.leaf.index)
    throw new CryptoError('kt-binding-mismatch', 'the log holds a later key for this person');
  return binding;
}

/** Whether a key leaf binds the email the person was looked up by (any, when not looked up by one). */
function bindsEmail(
  binding: UserKeyBinding,
  expect: { email?: string; emailNonce?: string },
): boolean {
  if (expect.email === undefined) return true;
  if (binding.v === BINDING_VERSION) return binding.email === normaliseEmail(expect.email);
  return (
    expect.emailNonce !== undefined &&
    binding.emailCommitment === emailCommitment(expect.email, expect.emailNonce)
  );
}

/** Outcome of self-monitoring: the UI shows each status in its own words (STYLE.md §20). */
export type OwnBindingsResult =
  | { status: 'ok' }
  /**
   * Keys bound to this account that are not its own: "A different key was published for you on
   * …"; `withheld`: leaves the log holds for the account that the server did not show (their key
   * unknown, so never ours to trust).
   */
  | {
      status: 'foreign-key';
      bindings: { index: number; fingerprint: Fingerprint; at: number }[];
      withheld: number;
    }
  /** The log has no binding for the account's own key: the directory serves a key it never logged. */
  | { status: 'own-key-missing' };

/**
 * Self-monitoring at login: every binding the log holds for this account, each proven under
 * `head`, must name one of the account's own keys (fingerprint and whole key: the same primary
 * key with a subkey dropped or swapped is not ours), and the listing must be all of them (the
 * map `head` signs says how many there are and chains them).
 * @throws CryptoError `kt-bad-proof` (a leaf or the map lookup), `kt-binding-mismatch` (a leaf
 *   for someone else served as ours), `kt-no-map`, `kt-map-mismatch`, `kt-malformed`.
 */
export function checkOwnBindings(opts: {
  head: SignedTreeHead;
  userId: string;
  /** The account's own keys: a binding counts as ours only with the same whole key. */
  ownKeys: readonly { fingerprint: string; keySha256: string }[];
  history: readonly ProvenBinding[];
  /** The map's lookup proof for the account (the history answer carries it). */
  map: MapProof;
}): OwnBindingsResult {
  const foreign: { index: number; fingerprint: Fingerprint; at: number }[] = [];
  let ownSeen = false;
  for (const proven of opts.history) {
    const binding = parseKind(proven.leaf.data, 'user-key');
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
  const withheld = withheldFrom(opts.head, opts.userId, opts.history, opts.map);
  if (foreign.length > 0 || withheld > 0)
    return { status: 'foreign-key', bindings: foreign, withheld };
  return ownSeen ? { status: 'ok' } : { status: 'own-key-missing' };
}

/** A team the log says this account was made a member of (or changed in), by someone else's key. */
export type UnknownMembership = Omit<TeamMemberBinding, 'v' | 'type' | 'userId'> & {
  index: number;
};

/** Outcome of self-monitoring the account's team memberships (the UI words each status). */
export type OwnMembershipsResult =
  | { status: 'ok' }
  /**
   * Statements in the log that make this account a member of a team, or change its role there,
   * signed by another key than its own: "You were added to the team … on …".
   */
  | { status: 'unknown-membership'; memberships: UnknownMembership[]; withheld: number }
  /**
   * Leaves that name one of the account's own keys as their signer, not judged yet: the caller
   * fetches each statement (team, seq) and checks again with `ownStatementHashes`.
   */
  | { status: 'confirm-own'; leaves: { teamId: string; seq: number }[] };

/**
 * Self-monitoring of memberships (docs/decisions.md "Memberships in the log"): every leaf the
 * log lists under `member:<userId>`, each proven under `head`, names this account; those over a
 * statement one of its own keys signed (a team it founded) are its own doing, every other one is
 * returned for the user to see once (a team she does not know may be using her name to look
 * attested). A leaf's signer field (`by`) is the server's word: one naming her key counts as hers
 * only when its team, seq and statement hash are among `ownStatementHashes` (statementHashesSignedBy); without
 * them such leaves come back as `confirm-own`.
 * The listing must be all of them: `withheld` counts those the map `head` signs holds and the
 * listing left out (memberships the server hides from me, each one I cannot judge).
 * @throws CryptoError `kt-bad-proof` (a leaf or the map lookup), `kt-binding-mismatch` (a leaf
 *   of another kind or for another account), `kt-no-map`, `kt-map-mismatch`, `kt-malformed`.
 */
export function checkOwnMemberships(opts: {
  head: SignedTreeHead;
  userId: string;
  /** The account's own key fingerprints: a statement signed with one is the user's own. */
  ownFingerprints: readonly string[];
  history: readonly ProvenBinding[];
  /** The map's lookup proof for `member:<userId>` (the memberships answer carries it). */
  map: MapProof;
  /** The statements her own key signed, among those the `confirm-own` leaves name (statementHashesSignedBy). */
  ownStatementHashes?: ReadonlySet<string>;
}): OwnMembershipsResult {
  const unknown: UnknownMembership[] = [];
  const toConfirm: { teamId: string; seq: number }[] = [];
  for (const proven of opts.history) {
    const leaf = parseKind(proven.leaf.data, 'team-member');
    if (leaf.userId !== opts.userId)
      throw new CryptoError(
        'kt-binding-mismatch',
        'the history holds a membership of another account',
      );
    checkIncluded(opts.head, proven);
    if (opts.ownFingerprints.includes(leaf.by)) {
      if (!opts.ownStatementHashes) {
        toConfirm.push({ teamId: leaf.teamId, seq: leaf.seq });
        continue;
      }
      if (opts.ownStatementHashes.has(statementPlace(leaf.teamId, leaf.seq, leaf.statementHash)))
        continue;
    }
    const { teamId, genesis, seq, statementHash, teamName, practiceName, role, admin, by, at } =
      leaf;
    unknown.push({
      index: proven.leaf.index,
      teamId,
      genesis,
      seq,
      statementHash,
      teamName,
      practiceName,
      role,
      admin,
      by,
      at,
    });
  }
  if (toConfirm.length > 0) return { status: 'confirm-own', leaves: toConfirm };
  const withheld = withheldFrom(opts.head, memberSubject(opts.userId), opts.history, opts.map);
  return unknown.length > 0 || withheld > 0
    ? { status: 'unknown-membership', memberships: unknown, withheld }
    : { status: 'ok' };
}

/** Outcome of checking a team's history against the log (the UI words each status). */
export type TeamLogResult =
  | { status: 'ok' }
  /**
   * Leaves for this team that are not the statements the verified history holds (a change no
   * admin of the history signed, a later change hidden from us, or another team key);
   * `withheld`: leaves the log holds for the team that the server's listing left out.
   */
  | { status: 'foreign'; leaves: { index: number; seq: number; at: number }[]; withheld: number }
  /** The history's latest statement has no leaf: the server shows a team change it never logged. */
  | { status: 'not-logged' };

/**
 * A team's history (its signed statements, replayed and verified into `state`) against every
 * leaf the log holds for the team, each proven under `head`: the latest statement must be logged
 * (its hash commits to every statement before it), and every leaf must be the statement of the
 * history at its seq with the team key in force after it. Run by whoever relies on the team: a
 * patient sharing with it, a member unlocking its key, anyone checking a member's attestation,
 * and its admins at login (self-monitoring). The listing must be every leaf of the team: the
 * map `head` signs says how many there are and chains them.
 * @throws CryptoError `kt-bad-proof` (a leaf or the map lookup); `kt-binding-mismatch` (a leaf
 *   of another kind or team served as this team's); `kt-no-map`, `kt-map-mismatch`;
 *   `kt-malformed`; `invalid-argument` when `state` is not the replay of `statements`.
 */
export async function checkTeamInLog(opts: {
  head: SignedTreeHead;
  state: TeamState;
  statements: readonly string[];
  history: readonly ProvenBinding[];
  /** The map's lookup proof for the team's subject (the history answer carries it). */
  map: MapProof;
}): Promise<TeamLogResult> {
  const { state } = opts;
  const hashes = await Promise.all(
    opts.statements.map(async (signed) => teamStatementHash(await peekTeamStatement(signed))),
  );
  if (hashes.length !== state.seq + 1 || hashes[state.seq] !== state.head)
    throw new CryptoError(
      'invalid-argument',
      'the team state is not the replay of these statements',
    );
  const keyAfter = (seq: number) => state.keys.filter((k) => k.fromSeq <= seq).at(-1);
  const foreign: { index: number; seq: number; at: number }[] = [];
  let headLogged = false;
  for (const proven of opts.history) {
    const leaf = parseKind(proven.leaf.data, 'team-statement');
    if (leaf.teamId !== state.teamId)
      throw new CryptoError('kt-binding-mismatch', 'the history holds a leaf of another team');
    checkIncluded(opts.head, proven);
    const key = keyAfter(leaf.seq);
    const ours =
      leaf.genesis === state.genesis &&
      hashes[leaf.seq] === leaf.statementHash &&
      key?.fingerprint === leaf.teamKeyFingerprint &&
      key.keyHash === leaf.teamKeyHash;
    if (!ours) foreign.push({ index: proven.leaf.index, seq: leaf.seq, at: leaf.at });
    else if (leaf.seq === state.seq) headLogged = true;
  }
  const withheld = withheldFrom(opts.head, teamSubject(state.teamId), opts.history, opts.map);
  if (foreign.length > 0 || withheld > 0) return { status: 'foreign', leaves: foreign, withheld };
  return headLogged ? { status: 'ok' } : { status: 'not-logged' };
}

/**
 * What an auditor can check of a team without its statements (they need a session): every leaf
 * of the team, proven under `head`, forms one chain: one statement per change, from the creation
 * on without a gap, under one genesis. Two leaves for one change are a forked team history (an
 * admin key that signed two histories, shown to different people); a gap is a change never
 * logged. `known`: the statement hashes by seq this auditor saw in an earlier round; they must
 * stay. The listing must be every leaf of the team (the map `head` signs).
 * @returns the statement hashes by seq, to keep for the next round.
 * @throws CryptoError `kt-team-fork`, `kt-team-gap`; `kt-map-mismatch` (also when the listing
 *   withholds leaves), `kt-no-map`; `kt-bad-proof`, `kt-binding-mismatch`, `kt-malformed`.
 */
export function auditTeamLeaves(opts: {
  head: SignedTreeHead;
  teamId: string;
  history: readonly ProvenBinding[];
  map: MapProof;
  known: readonly string[];
}): string[] {
  // A Map, not an array: a seq is the server's word, and one in the billions must not make an
  // array that long (the audit then ran out of memory instead of reporting the gap).
  const bySeq = new Map<number, string>();
  let genesis: string | undefined;
  for (const proven of opts.history) {
    const leaf = parseKind(proven.leaf.data, 'team-statement');
    if (leaf.teamId !== opts.teamId)
      throw new CryptoError('kt-binding-mismatch', 'the history holds a leaf of another team');
    checkIncluded(opts.head, proven);
    genesis ??= leaf.genesis;
    const seen = bySeq.get(leaf.seq);
    if (leaf.genesis !== genesis || (seen !== undefined && seen !== leaf.statementHash)) {
      throw new CryptoError(
        'kt-team-fork',
        `team ${opts.teamId} has two histories in the log (change ${leaf.seq})`,
        {
          details: { seq: leaf.seq },
        },
      );
    }
    bySeq.set(leaf.seq, leaf.statementHash);
  }
  // The first seq not logged: with no gap, the number of changes (at most that many steps).
  let gap = 0;
  while (bySeq.has(gap)) gap++;
  if (gap < bySeq.size || gap < opts.known.length) {
    throw new CryptoError('kt-team-gap', `change ${gap} of team ${opts.teamId} is not in the log`, {
      details: { seq: gap },
    });
  }
  const changed = opts.known.findIndex((hash, seq) => bySeq.get(seq) !== hash);
  if (changed >= 0) {
    throw new CryptoError(
      'kt-team-fork',
      `change ${changed} of team ${opts.teamId} is not the one logged before`,
      {
        details: { seq: changed },
      },
    );
  }
  const withheld = withheldFrom(opts.head, teamSubject(opts.teamId), opts.history, opts.map);
  if (withheld > 0) {
    throw new CryptoError(
      'kt-map-mismatch',
      `the listing of team ${opts.teamId} withholds ${withheld} of its leaves in the log`,
      {
        details: { withheld },
      },
    );
  }
  return Array.from({ length: gap }, (_, seq) => bySeq.get(seq) ?? '');
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
  // One tree, two maps: the log signed two views of who holds which leaves.
  if (own.size === theirs.size && own.v === 2 && theirs.v === 2 && own.mapRoot !== theirs.mapRoot)
    return { status: 'split-view', own, theirs };
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
