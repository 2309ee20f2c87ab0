// What a leaf of the key-transparency log says (DESIGN §14): one binding per leaf, stored and
// hashed as canonical JSON so the server, the clients and the auditor see the same bytes.
import { sha256 } from '@noble/hashes/sha2.js';
import { CryptoError } from '../errors';
import { canonicalJson, toBase64Url, toHex, utf8 } from '../encoding';
import { parseKey } from '../keys';
import { normaliseEmail } from '../secrets';
import type { TeamRole, TeamState, TeamStatement } from '../teams/statements';
import { isFingerprint, type Fingerprint } from '../types';
import { leafHash } from './merkle';

export const BINDING_VERSION = 1;

/** The version of a user's key binding that commits to her email instead of holding it. */
export const USER_KEY_BINDING_VERSION = 2;

/**
 * User id + email → the key (its fingerprint and the SHA-256 of its binary packets). Version 1
 * holds the email; version 2 only `emailCommitment` (`emailCommitment()`), because the leaf is
 * served to any session that knows the user id (docs/decisions.md "A key leaf commits to the
 * email"). Both stay valid: the log is append-only.
 */
export type UserKeyBinding = UserKeyBindingV1 | UserKeyBindingV2;

interface UserKeyBindingFields {
  type: 'user-key';
  userId: string;
  fingerprint: Fingerprint;
  keySha256: string;
  /** When the log appended it (ms since the epoch): the date self-monitoring shows. */
  at: number;
}

export interface UserKeyBindingV1 extends UserKeyBindingFields {
  v: typeof BINDING_VERSION;
  email: string;
}

export interface UserKeyBindingV2 extends UserKeyBindingFields {
  v: typeof USER_KEY_BINDING_VERSION;
  /** base64url SHA-256 of the normalised email under a random nonce the server keeps. */
  emailCommitment: string;
}

/**
 * What a version 2 key leaf holds for `email`: base64url SHA-256 of a domain tag, the nonce and
 * the email normalised as at login. The nonce (128 random bits, chosen at registration) keeps
 * the commitment from telling the email to someone who guesses it; the server hands it out
 * only with an answer to a lookup by that email.
 */
export function emailCommitment(email: string, nonce: string): string {
  return toBase64Url(sha256(utf8(`medseal-kt-email\0${nonce}\0${normaliseEmail(email)}`)));
}

/**
 * One signed statement of a care team (docs/care-teams.md): the team's change, by its place in
 * the team's hash chain, with the team key in force after it. One kind carries both "team →
 * team key" and "membership statements" (DESIGN §14): each membership change and each key is a
 * statement, and the statement hash commits to the whole chain before it.
 */
export interface TeamStatementBinding {
  v: typeof BINDING_VERSION;
  type: 'team-statement';
  teamId: string;
  /** The creation statement's hash: with teamId, what names the team everywhere. */
  genesis: string;
  seq: number;
  /** `teamStatementHash` of the statement (base64url SHA-256 of its signed bytes). */
  statementHash: string;
  teamKeyFingerprint: Fingerprint;
  /** base64url SHA-256 of the whole team public key (TeamKeyRef.keyHash). */
  teamKeyHash: string;
  /** When the log appended it (ms since the epoch). */
  at: number;
}

/**
 * A team statement that adds a person to a team or changes her role there (create: the founder;
 * add; update), listed under that person's own subject `member:<userId>` so her client sees every
 * team the log says she belongs to (self-monitoring, docs/decisions.md "Memberships in the log").
 * Names a person, so served to her session only, like her key bindings.
 */
export interface TeamMemberBinding {
  v: typeof BINDING_VERSION;
  type: 'team-member';
  userId: string;
  teamId: string;
  genesis: string;
  seq: number;
  statementHash: string;
  /** The team's and practice's names as the creation statement gives them (for her alert). */
  teamName: string;
  practiceName: string;
  role: TeamRole;
  admin: boolean;
  /** The fingerprint of the admin key that signed the statement. */
  by: Fingerprint;
  /** When the log appended it (ms since the epoch). */
  at: number;
}

/** Every kind of leaf. */
export type KtBinding = UserKeyBinding | TeamStatementBinding | TeamMemberBinding;

/**
 * The leaf for the latest statement of a verified team `state` (the server appends it when it
 * stores the statement).
 */
export function teamStatementBindingOf(state: TeamState, at: number): TeamStatementBinding {
  const key = state.keys.at(-1);
  if (!key) throw new CryptoError('invalid-argument', 'a team always has a key');
  return {
    v: BINDING_VERSION,
    type: 'team-statement',
    teamId: state.teamId,
    genesis: state.genesis,
    seq: state.seq,
    statementHash: state.head,
    teamKeyFingerprint: key.fingerprint,
    teamKeyHash: key.keyHash,
    at,
  };
}

/** The subject under which the log lists a team's leaves (a user's subject is their id). */
export const teamSubject = (teamId: string): string => `team:${teamId}`;

/** The subject under which the log lists the team statements that name a person as a member. */
export const memberSubject = (userId: string): string => `member:${userId}`;

/**
 * The leaf naming the person statement `seq` adds or changes (a creation's founder, an added
 * member, an updated member), or null for a statement that makes nobody a member (remove,
 * rotate). `state`: any verified state of the team (names and genesis never change).
 */
export function teamMemberBindingOf(opts: {
  state: Pick<TeamState, 'teamId' | 'genesis' | 'name' | 'practiceName'>;
  statement: TeamStatement;
  statementHash: string;
  at: number;
}): TeamMemberBinding | null {
  const { change } = opts.statement;
  const member =
    change.type === 'create'
      ? change.founder
      : change.type === 'add'
        ? change.member
        : change.type === 'update'
          ? change
          : null;
  if (!member) return null;
  return {
    v: BINDING_VERSION,
    type: 'team-member',
    userId: member.userId,
    teamId: opts.state.teamId,
    genesis: opts.state.genesis,
    seq: opts.statement.seq,
    statementHash: opts.statementHash,
    teamName: opts.state.name,
    practiceName: opts.state.practiceName,
    role: member.role,
    admin: member.admin,
    by: opts.statement.by.fingerprint,
    at: opts.at,
  };
}

/** The subject that lists a leaf: the user, the team, or the member the statement names. */
export function subjectOf(binding: KtBinding): string {
  switch (binding.type) {
    case 'user-key':
      return binding.userId;
    case 'team-statement':
      return teamSubject(binding.teamId);
    case 'team-member':
      return memberSubject(binding.userId);
  }
}

/** A leaf as the log serves it: its index and its exact text. */
export interface LoggedBinding {
  index: number;
  data: string;
}

const HEX_HASH = /^[0-9a-f]{64}$/;
const B64URL_HASH = /^[A-Za-z0-9_-]{43}$/;

/** The identity of a key as a binding names it. @throws CryptoError `invalid-key`, `not-public-key`. */
export async function keyIdentityOf(
  armoredPublicKey: string,
): Promise<{ fingerprint: Fingerprint; keySha256: string }> {
  const key = await parseKey(armoredPublicKey);
  if (key.isPrivate()) throw new CryptoError('not-public-key', 'expected a public key');
  return {
    fingerprint: key.getFingerprint() as Fingerprint,
    keySha256: toHex(sha256(key.write())),
  };
}

/** The leaf text for a binding (canonical JSON; a version 1 user's email normalised as at login). */
export function encodeBinding(binding: KtBinding): string {
  return canonicalJson(
    binding.type === 'user-key' && binding.v === BINDING_VERSION
      ? { ...binding, email: normaliseEmail(binding.email) }
      : binding,
  );
}

function isUserKeyBinding(
  b: Partial<Omit<UserKeyBindingV1, 'v'> & Omit<UserKeyBindingV2, 'v'>> & { v?: unknown },
): boolean {
  return (
    typeof b.userId === 'string' &&
    (b.v === BINDING_VERSION
      ? typeof b.email === 'string'
      : typeof b.emailCommitment === 'string' && B64URL_HASH.test(b.emailCommitment)) &&
    isFingerprint(b.fingerprint) &&
    typeof b.keySha256 === 'string' &&
    HEX_HASH.test(b.keySha256) &&
    Object.keys(b).length === 7
  );
}

function isTeamStatementBinding(b: Partial<TeamStatementBinding>): boolean {
  const hash = (h: unknown) => typeof h === 'string' && B64URL_HASH.test(h);
  return (
    typeof b.teamId === 'string' &&
    hash(b.genesis) &&
    Number.isSafeInteger(b.seq) &&
    (b.seq as number) >= 0 &&
    hash(b.statementHash) &&
    isFingerprint(b.teamKeyFingerprint) &&
    hash(b.teamKeyHash) &&
    Object.keys(b).length === 9
  );
}

function isTeamMemberBinding(b: Partial<TeamMemberBinding>): boolean {
  return (
    typeof b.userId === 'string' &&
    typeof b.teamId === 'string' &&
    typeof b.genesis === 'string' &&
    B64URL_HASH.test(b.genesis) &&
    Number.isSafeInteger(b.seq) &&
    (b.seq as number) >= 0 &&
    typeof b.statementHash === 'string' &&
    B64URL_HASH.test(b.statementHash) &&
    typeof b.teamName === 'string' &&
    typeof b.practiceName === 'string' &&
    (b.role === 'doctor' || b.role === 'nurse' || b.role === 'staff') &&
    typeof b.admin === 'boolean' &&
    isFingerprint(b.by) &&
    Object.keys(b).length === 13
  );
}

/** RFC 9162 leaf hash of a leaf's text. */
export function bindingLeafHash(data: string): Uint8Array {
  return leafHash(utf8(data));
}

/**
 * Reads a leaf's text back into a binding, refusing anything that is not exactly what
 * encodeBinding() makes.
 * @throws CryptoError `unsupported-format` on another version; `kt-malformed` otherwise.
 */
export function parseBinding(data: string): KtBinding {
  let value: unknown;
  try {
    value = JSON.parse(data);
  } catch (cause) {
    throw new CryptoError('kt-malformed', 'a log leaf is not JSON', { cause });
  }
  const b = value as Partial<KtBinding> | null;
  if (typeof b !== 'object' || b === null)
    throw new CryptoError('kt-malformed', 'a log leaf is not an object');
  if (b.v !== BINDING_VERSION && !(b.v === USER_KEY_BINDING_VERSION && b.type === 'user-key'))
    throw new CryptoError('unsupported-format', `log leaf version ${String(b.v)} is not supported`);
  const ok =
    Number.isSafeInteger(b.at) &&
    ((b.type === 'user-key' && isUserKeyBinding(b)) ||
      (b.type === 'team-statement' && isTeamStatementBinding(b)) ||
      (b.type === 'team-member' && isTeamMemberBinding(b)));
  if (!ok) throw new CryptoError('kt-malformed', 'a log leaf is not a key binding');
  const binding = b as KtBinding;
  if (encodeBinding(binding) !== data)
    throw new CryptoError('kt-malformed', 'a log leaf is not in canonical form');
  return binding;
}
