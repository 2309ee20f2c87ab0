// Care team statements (DESIGN §13, docs/care-teams.md): every change of a team — its creation,
// a member added, updated or removed, a new team key — is one statement signed by a current
// admin, numbered and hash-chained to the one before. The same rules (`applyTeamStatement`)
// run on the server before it stores a statement and in every client that replays a team's
// log, so a server cannot add a member on its own, and cannot drop or reorder a statement
// without the chain breaking.
import * as openpgp from 'openpgp';
import { CryptoError } from '../errors';
import { bufferSource, canonicalJson, fromUtf8, isIsoTime, toBase64Url } from '../encoding';
import { parsePublicKeyCached, publicKeyOf, type UnlockedKey } from '../keys';
import { READ_CONFIG } from '../openpgp-config';
import { signInline, statementBytes, verifyStatement } from '../signing';
import type { Fingerprint, UserId } from '../types';

/** Signed bytes start with this purpose, so no other signed statement can pass for one. */
export const TEAM_STATEMENT_PURPOSE = 'medseal/team-statement';
/** Statement format version; a reader throws `unsupported-format` on any other. */
export const TEAM_STATEMENT_VERSION = 1;
/** Longest armored statement accepted (a statement is ~1 KiB armored). */
export const MAX_TEAM_STATEMENT_CHARS = 16 * 1024;
/** A team's members are one signed state; beyond this a practice splits teams. */
export const MAX_TEAM_MEMBERS = 500;
const MAX_NAME = 120;

/** What a member does in the team; `admin` is a separate right (an admin can be a doctor). */
export type TeamRole = 'doctor' | 'nurse' | 'staff';
const ROLES: readonly TeamRole[] = ['doctor', 'nurse', 'staff'];

/** A member as an admin attests them: the user, the key they hold, their role. */
export interface TeamMemberEntry {
  userId: UserId;
  fingerprint: Fingerprint;
  role: TeamRole;
  admin: boolean;
}

/** A team key as statements name it: fingerprint + SHA-256 of the whole public key (subkeys too). */
export interface TeamKeyRef {
  fingerprint: Fingerprint;
  /** base64url SHA-256 of the binary public key (`teamKeyRef` computes it). */
  keyHash: string;
}

export type TeamChange =
  | {
      type: 'create';
      practiceId: string;
      practiceName: string;
      name: string;
      /** The admin who signs the statement; the team's root of trust. */
      founder: TeamMemberEntry;
      teamKey: TeamKeyRef;
    }
  | { type: 'add'; member: TeamMemberEntry }
  | { type: 'update'; userId: UserId; role: TeamRole; admin: boolean }
  /** A removal always brings the next team key: the one the leaver held is retired in the same step. */
  | { type: 'remove'; userId: UserId; teamKey: TeamKeyRef }
  | { type: 'rotate'; teamKey: TeamKeyRef };

export type TeamChangeType = TeamChange['type'];

/** The signed content of one statement. */
export interface TeamStatement {
  v: 1;
  teamId: string;
  /** 0 for the creation, then +1 per statement. */
  seq: number;
  /** `hash` of statement seq − 1; null for the creation. */
  prev: string | null;
  /** ISO 8601 UTC; never earlier than the previous statement's. */
  at: string;
  /** The signer: a current admin (the founder for the creation). */
  by: { userId: UserId; fingerprint: Fingerprint };
  change: TeamChange;
}

/** A current member, with who last signed their entry and when they joined. */
export interface TeamMemberState extends TeamMemberEntry {
  /** `at` of the statement that added them. */
  since: string;
  /** The admin who signed the latest statement about them (the attestation shown to people). */
  signedBy: UserId;
  /** seq of that statement. */
  seq: number;
}

/** One generation of the team key; the last one in `TeamState.keys` is current. */
export interface TeamKeyState extends TeamKeyRef {
  /** 1 for the key the team was created with, +1 per rotation. */
  gen: number;
  fromSeq: number;
  /** `at` of the statement that introduced it. */
  from: string;
  /** Set once a later key replaced it. */
  until?: string;
}

/** What a verified log says about a team now. Plain JSON (the server stores it as is). */
export interface TeamState {
  v: 1;
  teamId: string;
  practiceId: string;
  practiceName: string;
  name: string;
  /** hash of the creation statement: with teamId, what patients pin and grants name. */
  genesis: string;
  /** The founder: the admin key a patient compares before trusting the team. */
  root: { userId: UserId; fingerprint: Fingerprint };
  seq: number;
  /** hash of the latest statement. */
  head: string;
  /** `at` of the latest statement. */
  at: string;
  /** Sorted by userId. */
  members: TeamMemberState[];
  /** Every generation, oldest first; the last is the current key. */
  keys: TeamKeyState[];
}

export type TeamRuleCode =
  | 'team-statement-malformed'
  | 'bad-signature'
  | 'not-team-admin'
  | 'team-chain-broken'
  | 'team-rule-violated';

const malformed = (message: string) => new CryptoError('team-statement-malformed', message);
const violated = (rule: string, message: string) =>
  new CryptoError('team-rule-violated', message, { details: { rule } });

function isId(value: unknown): value is string {
  return typeof value === 'string' && /^[A-Za-z0-9_-]{1,64}$/.test(value);
}

function isName(value: unknown): value is string {
  return (
    typeof value === 'string' &&
    value.trim() !== '' &&
    value.length <= MAX_NAME &&
    // No control, bidi-override or invisible format characters, nor line or paragraph
    // separators (they could disguise a name or break it over lines): the characters the
    // contract's `safeText` refuses in people's names, joiners too.
    !/[\p{Cc}\p{Cf}\u2028\u2029]/u.test(value)
  );
}

const isFp = (value: unknown): value is Fingerprint =>
  typeof value === 'string' && /^[0-9a-f]{40}$/.test(value);
const isHash = (value: unknown): value is string =>
  typeof value === 'string' && /^[A-Za-z0-9_-]{43}$/.test(value);

function onlyKeys(value: Record<string, unknown>, keys: readonly string[]): boolean {
  return Object.keys(value).every((k) => keys.includes(k));
}

function asObject(value: unknown): Record<string, unknown> | null {
  return typeof value === 'object' && value !== null && !Array.isArray(value)
    ? (value as Record<string, unknown>)
    : null;
}

function parseMember(value: unknown): TeamMemberEntry | null {
  const m = asObject(value);
  if (!m || !onlyKeys(m, ['userId', 'fingerprint', 'role', 'admin'])) return null;
  if (!isId(m.userId) || !isFp(m.fingerprint) || typeof m.admin !== 'boolean') return null;
  if (!ROLES.includes(m.role as TeamRole)) return null;
  return m as unknown as TeamMemberEntry;
}

function parseKeyRef(value: unknown): TeamKeyRef | null {
  const k = asObject(value);
  if (!k || !onlyKeys(k, ['fingerprint', 'keyHash'])) return null;
  return isFp(k.fingerprint) && isHash(k.keyHash) ? (k as unknown as TeamKeyRef) : null;
}

function parseChange(value: unknown): TeamChange | null {
  const c = asObject(value);
  if (!c) return null;
  switch (c.type) {
    case 'create':
      return onlyKeys(c, ['type', 'practiceId', 'practiceName', 'name', 'founder', 'teamKey']) &&
        isId(c.practiceId) &&
        isName(c.practiceName) &&
        isName(c.name) &&
        parseMember(c.founder) &&
        parseKeyRef(c.teamKey)
        ? (c as unknown as TeamChange)
        : null;
    case 'add':
      return onlyKeys(c, ['type', 'member']) && parseMember(c.member)
        ? (c as unknown as TeamChange)
        : null;
    case 'update':
      return onlyKeys(c, ['type', 'userId', 'role', 'admin']) &&
        isId(c.userId) &&
        ROLES.includes(c.role as TeamRole) &&
        typeof c.admin === 'boolean'
        ? (c as unknown as TeamChange)
        : null;
    case 'remove':
      return onlyKeys(c, ['type', 'userId', 'teamKey']) && isId(c.userId) && parseKeyRef(c.teamKey)
        ? (c as unknown as TeamChange)
        : null;
    case 'rotate':
      return onlyKeys(c, ['type', 'teamKey']) && parseKeyRef(c.teamKey)
        ? (c as unknown as TeamChange)
        : null;
    default:
      return null;
  }
}

/**
 * Checks the shape of a statement (not its signature or its place in a chain).
 * @throws CryptoError `unsupported-format` (other `v`), `team-statement-malformed`.
 */
export function parseTeamStatement(value: unknown): TeamStatement {
  const s = asObject(value);
  if (!s) throw malformed('a team statement must be an object');
  if (s.v !== TEAM_STATEMENT_VERSION) {
    if (typeof s.v === 'number') {
      throw new CryptoError(
        'unsupported-format',
        `team statement format v${s.v} is not supported by this version of the app`,
      );
    }
    throw malformed('a team statement needs its format version');
  }
  const by = asObject(s.by);
  const ok =
    onlyKeys(s, ['v', 'teamId', 'seq', 'prev', 'at', 'by', 'change']) &&
    isId(s.teamId) &&
    Number.isSafeInteger(s.seq) &&
    (s.seq as number) >= 0 &&
    (s.prev === null || isHash(s.prev)) &&
    isIsoTime(s.at) &&
    by !== null &&
    onlyKeys(by, ['userId', 'fingerprint']) &&
    isId(by.userId) &&
    isFp(by.fingerprint) &&
    parseChange(s.change) !== null;
  if (!ok) throw malformed('the team statement does not have the expected fields');
  return s as unknown as TeamStatement;
}

function signedBytes(statement: TeamStatement): Uint8Array {
  return statementBytes(TEAM_STATEMENT_PURPOSE, 'statement', statement);
}

/** base64url SHA-256 of the statement's signed bytes: what the next statement's `prev` names. */
export async function teamStatementHash(statement: TeamStatement): Promise<string> {
  const digest = await globalThis.crypto.subtle.digest(
    'SHA-256',
    bufferSource(signedBytes(statement)),
  );
  return toBase64Url(new Uint8Array(digest));
}

/**
 * The statement inside a signed message, WITHOUT checking the signature: only to learn who
 * claims to have signed it, so the caller can fetch that key for `applyTeamStatement`.
 * @throws CryptoError `team-statement-malformed`, `unsupported-format`.
 */
export async function peekTeamStatement(signed: string): Promise<TeamStatement> {
  if (typeof signed !== 'string' || signed.length > MAX_TEAM_STATEMENT_CHARS) {
    throw malformed(
      `a signed statement is an armored message of at most ${MAX_TEAM_STATEMENT_CHARS} characters`,
    );
  }
  let data: Uint8Array;
  try {
    const message = await openpgp.readMessage({ armoredMessage: signed, config: READ_CONFIG });
    const literal = message.getLiteralData();
    if (!(literal instanceof Uint8Array)) throw new Error('no literal data');
    data = literal;
  } catch (cause) {
    throw new CryptoError('team-statement-malformed', 'not a signed OpenPGP message', { cause });
  }
  let value: unknown;
  try {
    value = JSON.parse(fromUtf8(data));
  } catch (cause) {
    throw new CryptoError('team-statement-malformed', 'the signed data is not JSON', { cause });
  }
  const outer = asObject(value);
  if (outer?.purpose !== TEAM_STATEMENT_PURPOSE)
    throw malformed('the signed data is not a team statement');
  return parseTeamStatement(outer.statement);
}

function withoutMember(members: TeamMemberState[], userId: string): TeamMemberState[] {
  return members.filter((m) => m.userId !== userId);
}

function sortedMembers(members: TeamMemberState[]): TeamMemberState[] {
  return [...members].sort((a, b) => (a.userId < b.userId ? -1 : a.userId > b.userId ? 1 : 0));
}

function withNewKey(state: TeamState, ref: TeamKeyRef, seq: number, at: string): TeamKeyState[] {
  if (state.keys.some((k) => k.fingerprint === ref.fingerprint || k.keyHash === ref.keyHash)) {
    throw violated('key-reused', 'the new team key must be a key the team never had');
  }
  const last = state.keys[state.keys.length - 1];
  const retired = state.keys.map((k) => (k === last ? { ...k, until: at } : k));
  return [...retired, { ...ref, gen: (last?.gen ?? 0) + 1, fromSeq: seq, from: at }];
}

function requireAdminsLeft(members: TeamMemberState[]): void {
  if (!members.some((m) => m.admin)) {
    throw violated('last-admin', 'a team must keep at least one admin');
  }
}

/** The state after a statement whose signature and chain position were already checked. */
function nextState(state: TeamState | null, s: TeamStatement, hash: string): TeamState {
  const c = s.change;
  if (c.type === 'create') {
    if (state !== null) throw new CryptoError('team-chain-broken', 'a team is created only once');
    return {
      v: 1,
      teamId: s.teamId,
      practiceId: c.practiceId,
      practiceName: c.practiceName,
      name: c.name,
      genesis: hash,
      root: { userId: c.founder.userId, fingerprint: c.founder.fingerprint },
      seq: 0,
      head: hash,
      at: s.at,
      members: [{ ...c.founder, since: s.at, signedBy: s.by.userId, seq: 0 }],
      keys: [{ ...c.teamKey, gen: 1, fromSeq: 0, from: s.at }],
    };
  }
  if (state === null)
    throw new CryptoError('team-chain-broken', 'the first statement must create the team');
  const base = { ...state, seq: s.seq, head: hash, at: s.at };
  const subject = c.type === 'add' ? c.member.userId : c.type === 'rotate' ? undefined : c.userId;
  const current = state.members.find((m) => m.userId === subject);
  switch (c.type) {
    case 'add':
      if (current) throw violated('already-member', 'this user is already a member');
      if (state.members.length >= MAX_TEAM_MEMBERS) {
        throw violated('too-many-members', `a team has at most ${MAX_TEAM_MEMBERS} members`);
      }
      return {
        ...base,
        members: sortedMembers([
          ...state.members,
          { ...c.member, since: s.at, signedBy: s.by.userId, seq: s.seq },
        ]),
      };
    case 'update': {
      if (!current) throw violated('not-member', 'this user is not a member');
      if (current.role === c.role && current.admin === c.admin) {
        throw violated('no-change', 'the update changes nothing');
      }
      const members = sortedMembers([
        ...withoutMember(state.members, c.userId),
        { ...current, role: c.role, admin: c.admin, signedBy: s.by.userId, seq: s.seq },
      ]);
      requireAdminsLeft(members);
      return { ...base, members };
    }
    case 'remove': {
      if (!current) throw violated('not-member', 'this user is not a member');
      const members = withoutMember(state.members, c.userId);
      requireAdminsLeft(members);
      return { ...base, members, keys: withNewKey(state, c.teamKey, s.seq, s.at) };
    }
    case 'rotate':
      return { ...base, keys: withNewKey(state, c.teamKey, s.seq, s.at) };
  }
}

/** The fingerprint a statement's signer must have: a current admin's (the founder's for the creation). */
function expectedSigner(state: TeamState | null, s: TeamStatement): Fingerprint {
  if (state === null) {
    if (s.change.type !== 'create') {
      throw new CryptoError('team-chain-broken', 'the first statement must create the team');
    }
    const founder = s.change.founder;
    if (
      founder.userId !== s.by.userId ||
      founder.fingerprint !== s.by.fingerprint ||
      !founder.admin
    ) {
      throw new CryptoError(
        'not-team-admin',
        'the creation must be signed by its founder, as an admin',
      );
    }
    return founder.fingerprint;
  }
  const admin = state.members.find((m) => m.userId === s.by.userId);
  if (!admin?.admin || admin.fingerprint !== s.by.fingerprint) {
    throw new CryptoError(
      'not-team-admin',
      'the statement is not signed by a current admin of the team',
      {
        details: { seq: s.seq, by: s.by.userId },
      },
    );
  }
  return admin.fingerprint;
}

function checkPosition(state: TeamState | null, s: TeamStatement, expectTeamId?: string): void {
  const teamId = state?.teamId ?? expectTeamId;
  if (teamId !== undefined && s.teamId !== teamId) {
    throw new CryptoError('team-chain-broken', 'the statement is for another team');
  }
  const seq = state === null ? 0 : state.seq + 1;
  const prev = state === null ? null : state.head;
  if (s.seq !== seq || s.prev !== prev) {
    throw new CryptoError('team-chain-broken', `expected statement ${seq} after the current head`, {
      details: { expectedSeq: seq, seq: s.seq },
    });
  }
  if (state !== null && Date.parse(s.at) < Date.parse(state.at)) {
    throw violated('time-went-back', 'a statement cannot be dated before the one it follows');
  }
}

/**
 * Those of `signed` that `publicKey` signed (team statements, exactly one signature, this
 * purpose), each by its place and hash (`statementPlace`); the others are left out. What a
 * membership leaf naming her own key as its signer is held against: the leaf's signer field is
 * the server's word, the signature is not, and the statement must be the one at the leaf's
 * team and seq (a statement she signed for another team must not stand in for it).
 */
export async function statementHashesSignedBy(
  signed: readonly string[],
  publicKey: string,
): Promise<Set<string>> {
  const key = await parsePublicKeyCached(publicKey);
  const places = await Promise.all(
    signed.map(async (armored) => {
      const verified = await verifyStatement(armored, key, TEAM_STATEMENT_PURPOSE, 'statement');
      if (verified === null) return undefined;
      try {
        const statement = parseTeamStatement(verified);
        return statementPlace(statement.teamId, statement.seq, await teamStatementHash(statement));
      } catch {
        return undefined;
      }
    }),
  );
  return new Set(places.filter((p): p is string => p !== undefined));
}

/** A statement by its team, seq and hash: what statementHashesSignedBy returns and leaves are held against. */
export const statementPlace = (teamId: string, seq: number, hash: string): string =>
  `${teamId}\n${seq}\n${hash}`;

/**
 * Checks one signed statement against the team's current state and returns the next state:
 * right team, next seq, `prev` = current head, signed (exactly one signature) by `signerPublicKey`,
 * whose fingerprint must be the current admin's the statement names (the founder's for the
 * creation, then `state` is null), and the change follows the rules (no member added twice, no
 * removal of a non-member, always one admin left, a new key for every removal, never a key the
 * team had before, time never goes back).
 * @throws CryptoError `team-statement-malformed`, `unsupported-format`, `team-chain-broken`,
 * `not-team-admin`, `bad-signature`, `team-rule-violated` (details.rule: already-member |
 * not-member | last-admin | key-reused | no-change | too-many-members | time-went-back).
 */
export async function applyTeamStatement(opts: {
  state: TeamState | null;
  signed: string;
  signerPublicKey: string;
  /** For the creation: the team id it must name. */
  teamId?: string;
}): Promise<{ statement: TeamStatement; hash: string; state: TeamState }> {
  return applyPeeked({ ...opts, claimed: await peekTeamStatement(opts.signed) });
}

/** `applyTeamStatement` once the statement was peeked at (a replay peeks to pick the signer's key). */
async function applyPeeked(opts: {
  state: TeamState | null;
  signed: string;
  claimed: TeamStatement;
  signerPublicKey: string;
  teamId?: string;
}): Promise<{ statement: TeamStatement; hash: string; state: TeamState }> {
  checkPosition(opts.state, opts.claimed, opts.teamId);
  const fingerprint = expectedSigner(opts.state, opts.claimed);
  let key: openpgp.Key;
  try {
    key = await parsePublicKeyCached(opts.signerPublicKey);
  } catch (cause) {
    throw new CryptoError('bad-signature', "the signer's key is unreadable", { cause });
  }
  if (key.isPrivate() || key.getFingerprint() !== fingerprint) {
    throw new CryptoError(
      'not-team-admin',
      'the given key is not the key of the admin the statement names',
    );
  }
  const verified = await verifyStatement(opts.signed, key, TEAM_STATEMENT_PURPOSE, 'statement');
  if (verified === null) {
    throw new CryptoError('bad-signature', 'the statement is not signed by the admin it names');
  }
  const statement = parseTeamStatement(verified);
  // The verified bytes are the ones peeked at (one literal packet), but check what counts again.
  checkPosition(opts.state, statement, opts.teamId);
  expectedSigner(opts.state, statement);
  const hash = await teamStatementHash(statement);
  return { statement, hash, state: nextState(opts.state, statement, hash) };
}

/**
 * Signs the next statement of a team (the creation when `state` is null: then `teamId` is
 * required) and checks it against the state like any reader will, so an admin never sends a
 * statement the others would refuse.
 * @throws CryptoError `invalid-argument` (bad change or time) and the `applyTeamStatement` codes.
 */
export async function signTeamStatement(opts: {
  state: TeamState | null;
  teamId?: string;
  change: TeamChange;
  signerId: UserId;
  signerKey: UnlockedKey;
  at?: Date;
}): Promise<{ signed: string; statement: TeamStatement; hash: string; state: TeamState }> {
  const teamId = opts.state?.teamId ?? opts.teamId;
  if (!isId(teamId))
    throw new CryptoError('invalid-argument', 'teamId is 1-64 characters of base64url');
  let at = (opts.at ?? new Date()).toISOString();
  // Same millisecond as the previous statement is fine; earlier never is.
  if (opts.state && at < opts.state.at && opts.at === undefined) at = opts.state.at;
  const statement: TeamStatement = {
    v: 1,
    teamId,
    seq: opts.state === null ? 0 : opts.state.seq + 1,
    prev: opts.state === null ? null : opts.state.head,
    at,
    by: { userId: opts.signerId, fingerprint: opts.signerKey.fingerprint },
    change: opts.change,
  };
  try {
    parseTeamStatement(JSON.parse(canonicalJson(statement)));
  } catch (cause) {
    throw new CryptoError('invalid-argument', 'the team change is not valid', { cause });
  }
  const signed = await signInline(signedBytes(statement), opts.signerKey);
  const applied = await applyTeamStatement({
    state: opts.state,
    signed,
    signerPublicKey: publicKeyOf(opts.signerKey),
    teamId,
  });
  return { signed, ...applied };
}

/** A team head a client pinned (account state): the log it is served must extend it. */
export interface PinnedTeamHead {
  genesis: string;
  seq: number;
  head: string;
}

export type ReplayTeamLogResult =
  | { status: 'verified'; state: TeamState }
  /** A statement fails the rules; nothing from it on counts. */
  | { status: 'invalid'; seq: number; code: TeamRuleCode | 'unsupported-format'; message: string }
  /** The log served ends before the head this client pinned: a statement is being hidden. */
  | { status: 'rollback'; pinnedSeq: number; servedSeq: number }
  /** The log served has another statement at a seq this client pinned (or another creation). */
  | { status: 'fork'; seq: number };

/**
 * Replays a team's whole log, oldest first, from its creation. `publicKeys` are the armored
 * keys of the signers (any order, extra keys ignored); each statement must be signed by the
 * key of an admin of the state before it. With `pinned`, the log must contain the pinned head
 * at its seq and reach at least that far. Never throws on bad data: the status says what is
 * wrong; only `verified` carries a state.
 */
export async function replayTeamLog(opts: {
  teamId: string;
  statements: readonly string[];
  publicKeys: readonly string[];
  pinned?: PinnedTeamHead;
}): Promise<ReplayTeamLogResult> {
  const keys = new Map<string, string>();
  for (const armored of opts.publicKeys) {
    try {
      const key = await parsePublicKeyCached(armored);
      if (!key.isPrivate()) keys.set(key.getFingerprint(), armored);
    } catch {
      // an unreadable key is simply not the key of any signer
    }
  }
  let state: TeamState | null = null;
  for (const [index, signed] of opts.statements.entries()) {
    try {
      const claimed = await peekTeamStatement(signed);
      const applied: { state: TeamState } = await applyPeeked({
        state,
        signed,
        claimed,
        signerPublicKey: keys.get(claimed.by.fingerprint) ?? '',
        teamId: opts.teamId,
      });
      state = applied.state;
    } catch (error) {
      if (!(error instanceof CryptoError)) throw error;
      return {
        status: 'invalid',
        seq: index,
        code: error.code as TeamRuleCode | 'unsupported-format',
        message: error.message,
      };
    }
    const pinned = opts.pinned;
    if (pinned && state.seq === 0 && state.genesis !== pinned.genesis)
      return { status: 'fork', seq: 0 };
    if (pinned && state.seq === pinned.seq && state.head !== pinned.head) {
      return { status: 'fork', seq: pinned.seq };
    }
  }
  if (state === null) {
    return { status: 'invalid', seq: 0, code: 'team-chain-broken', message: 'the log is empty' };
  }
  if (opts.pinned && state.seq < opts.pinned.seq) {
    return { status: 'rollback', pinnedSeq: opts.pinned.seq, servedSeq: state.seq };
  }
  return { status: 'verified', state };
}
