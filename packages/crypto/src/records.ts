// Records (DESIGN §5): a canonical JSON envelope that binds the content to its context, padded,
// signed by the author, encrypted to every recipient in one message (SEIPDv1 + MDC).
import { CryptoError } from './errors';
import { canonicalJson, fromUtf8, utf8, type Json } from './encoding';
import { parseFingerprint } from './fingerprint';
import { grantIsCurrent, verifyGrantWithKey } from './grants';
import { inspectMessage } from './inspect';
import { encryptToKeys, parsePublicKeyCached, validatedPublicKey, type UnlockedKey } from './keys';
import {
  decryptVerified,
  encryptSigned,
  type BadSignatureReason,
  type DecryptWith,
  type SessionKey,
} from './messages';
import { pad, unpad } from './padding';
import { baseSessionKeyOf, dataSha256, parseRekeyStatement } from './rekey';
import { parseSignedTreeHead, type SignedTreeHead } from './transparency/heads';
import { teamKeyAt, teamMember } from './teams/state';
import type { TeamState } from './teams/statements';
import { verifyTeamGrantWithKey } from './teams/team-grants';
import type { ArmoredMessage, Fingerprint, Grant, RecordId, UserId } from './types';

export type JsonObject = { [key: string]: Json };

/** The signed plaintext of a record version. `v` is the envelope format version. */
export interface RecordEnvelope<C extends JsonObject = JsonObject> {
  v: 1;
  recordId: RecordId;
  version: number;
  ownerId: UserId;
  authorId: UserId;
  /** Fingerprints of everyone the version was encrypted to at writing time, sorted. */
  recipients: Fingerprint[];
  /** ISO 8601. */
  createdAt: string;
  content: C;
  /**
   * Absent for the record itself; 'summary' for the small list-view message (title, kind, date)
   * sealed beside it under the same session key (DESIGN §5). Signed, so one can't be served as the other.
   */
  part?: 'summary';
  /**
   * The author's latest key-transparency head when writing (DESIGN §14 gossip): a reader checks
   * it is consistent with its own. Absent in records written before gossip.
   */
  ktHead?: SignedTreeHead;
}

/** What the author supplies; `v` and `recipients` are filled in from the recipient keys. */
export type RecordEnvelopeInput<C extends JsonObject = JsonObject> = Omit<
  RecordEnvelope<C>,
  'v' | 'recipients'
>;

/** Upper bound for a record message this package will seal or open (armored characters). */
export const MAX_RECORD_MESSAGE = 32 * 1024 * 1024;

function isIsoDate(v: unknown): v is string {
  return typeof v === 'string' && !Number.isNaN(Date.parse(v)) && new Date(v).toISOString() === v;
}

function isPlainObject(v: unknown): v is JsonObject {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}

function checkInput(e: RecordEnvelopeInput): void {
  const bad = (what: string) => new CryptoError('invalid-argument', `envelope.${what}`);
  if (typeof e.recordId !== 'string' || e.recordId === '')
    throw bad('recordId must be a non-empty string');
  if (!Number.isSafeInteger(e.version) || e.version < 1)
    throw bad('version must be a positive integer');
  if (typeof e.ownerId !== 'string' || e.ownerId === '')
    throw bad('ownerId must be a non-empty string');
  if (typeof e.authorId !== 'string' || e.authorId === '')
    throw bad('authorId must be a non-empty string');
  if (!isIsoDate(e.createdAt))
    throw bad('createdAt must be an ISO 8601 UTC string (Date.toISOString())');
  if (!isPlainObject(e.content)) throw bad('content must be a JSON object');
  if (e.part !== undefined && e.part !== 'summary') throw bad("part must be absent or 'summary'");
  if (e.ktHead !== undefined && !parseSignedTreeHead(e.ktHead))
    throw bad('ktHead must be a signed tree head');
}

function parseEnvelope(value: unknown): RecordEnvelope | null {
  if (!isPlainObject(value)) return null;
  const e = value as Record<string, unknown>;
  const keys = [
    'v',
    'recordId',
    'version',
    'ownerId',
    'authorId',
    'recipients',
    'createdAt',
    'content',
    'part',
    'ktHead',
  ];
  if (Object.keys(e).some((k) => !keys.includes(k))) return null;
  if (
    typeof e.recordId !== 'string' ||
    !Number.isSafeInteger(e.version) ||
    typeof e.ownerId !== 'string' ||
    typeof e.authorId !== 'string' ||
    !Array.isArray(e.recipients) ||
    !e.recipients.every((r) => typeof r === 'string' && /^[0-9a-f]{40}$/.test(r)) ||
    !isIsoDate(e.createdAt) ||
    !isPlainObject(e.content) ||
    (e.part !== undefined && e.part !== 'summary') ||
    (e.ktHead !== undefined && !parseSignedTreeHead(e.ktHead))
  ) {
    return null;
  }
  return e as unknown as RecordEnvelope;
}

/**
 * Seals a record version: envelope → canonical JSON → Padmé padding → signed by `authorKey` →
 * encrypted to every key in `recipientKeys` (include the author's own key if the author should
 * read it back). Pass `sessionKey` to share one session key with the version's attachments.
 * @throws CryptoError `invalid-argument` (bad envelope, duplicate recipient) and the
 * `readPublicKey` codes for any unusable recipient key.
 */
export async function sealRecord<C extends JsonObject>(opts: {
  envelope: RecordEnvelopeInput<C>;
  authorKey: UnlockedKey;
  recipientKeys: string[];
  sessionKey?: SessionKey;
}): Promise<{ message: ArmoredMessage; envelope: RecordEnvelope<C> }> {
  checkInput(opts.envelope);
  if (opts.recipientKeys.length === 0)
    throw new CryptoError('invalid-argument', 'a record needs at least one recipient');
  const envelopeFor = (keys: { getFingerprint(): string }[]): RecordEnvelope<C> => ({
    v: 1,
    recordId: opts.envelope.recordId,
    version: opts.envelope.version,
    ownerId: opts.envelope.ownerId,
    authorId: opts.envelope.authorId,
    recipients: keys.map((k) => k.getFingerprint() as Fingerprint).sort(),
    createdAt: opts.envelope.createdAt,
    content: opts.envelope.content,
    ...(opts.envelope.part ? { part: opts.envelope.part } : {}),
    ...(opts.envelope.ktHead ? { ktHead: opts.envelope.ktHead } : {}),
  });
  let envelope: RecordEnvelope<C> | undefined;
  const message = (await encryptToKeys(opts.recipientKeys, async (keys) => {
    envelope = envelopeFor(keys);
    let json: string;
    try {
      json = canonicalJson(envelope);
    } catch (cause) {
      throw new CryptoError(
        'invalid-argument',
        'envelope.content must be JSON (finite numbers, no undefined in arrays)',
        { cause },
      );
    }
    return encryptSigned({
      data: pad(utf8(json)),
      signer: opts.authorKey,
      recipients: keys,
      ...(opts.sessionKey ? { sessionKey: opts.sessionKey } : {}),
      format: 'armored',
    });
  })) as ArmoredMessage;
  if (!envelope) throw new CryptoError('invalid-argument', 'no envelope was sealed');
  return { message, envelope };
}

export interface GrantEvidence {
  signedGrant: string;
  signerPublicKey: string;
}

/** What the reader expects, from the server's record document and its own pinned keys. */
export interface RecordExpectation {
  recordId: RecordId;
  version: number;
  ownerId: UserId;
  authorId: UserId;
  /** The author's public key; if `authorFingerprint` (pinned) is given the key must have it. */
  authorPublicKey: string;
  authorFingerprint?: Fingerprint;
  /** The server's current recipient list (fingerprints). */
  recipients: Fingerprint[];
  /** Grants the server holds for this record; their grantees may be in `recipients` beyond the envelope's. */
  grants?: GrantEvidence[];
  /** Pinned fingerprint of the owner, needed to accept grants the owner (not the author) signed. */
  ownerFingerprint?: Fingerprint;
  /**
   * Team grants the server holds for this record (DESIGN §13), with the verified states of the
   * teams they name: each adds the key the team had when the grant was signed (`teamKeyAt`).
   */
  teamGrants?: GrantEvidence[];
  teams?: TeamState[];
  /** 'summary' when opening the list-view summary message; absent for the record itself. */
  part?: 'summary';
  /** The highest version this client has seen of the record: anything older is a rollback. */
  minVersion?: number;
  /**
   * Public keys of the readers (any order; keys of people who are not readers are ignored).
   * When given, the message's session key packets must be exactly one per reader (DESIGN §12
   * "Readers"): none for anyone else, none missing. A reader whose key is not given may have
   * one packet that cannot be told apart; give every reader's key for the full check.
   */
  readerKeys?: string[];
  /**
   * The server says this version is a re-key (docs/care-teams.md): it is signed by `rekeyedBy`
   * (a team admin), not by the author, and holds only a re-key statement naming its base version.
   * `check`: `current-admin` for the version a reader is shown (the signer must be an admin of
   * the team in the reader's verified state now); `vouched` for an older re-key opened as the
   * base of a later one, whose admin checked it when she re-keyed it.
   */
  rekeyedBy?: {
    userId: UserId;
    publicKey: string;
    fingerprint?: Fingerprint;
    check: 'current-admin' | 'vouched';
  };
  /** The base64url SHA-256 of its encrypted data packet (a base version, as its re-key names it: `dataSha256`). */
  dataSha256?: string;
  now?: Date;
}

/** `packets`: the message is encrypted to someone who is not a reader, or not to a reader. */
/** `rekey`: a re-key statement that is not for this record's base, team or admins; `rekey-base`: a base that is not the one its re-key names. */
export type ContextField =
  | 'recordId'
  | 'version'
  | 'version-rollback'
  | 'ownerId'
  | 'authorId'
  | 'part'
  | 'recipients'
  | 'packets'
  | 'envelope'
  | 'rekey'
  | 'rekey-base';

export type OpenRecordResult<C extends JsonObject = JsonObject> =
  | {
      status: 'verified';
      envelope: RecordEnvelope<C>;
      signedAt: Date;
      /** Key-transparency heads signed into this version and its accepted grants, for gossip (DESIGN §14). */
      gossip: SignedTreeHead[];
    }
  | {
      status: 'unknown-author-key';
      reason: 'signed-by-another-key' | 'author-key-mismatch' | 'unreadable-author-key';
    }
  | { status: 'bad-signature'; reason: BadSignatureReason }
  | {
      status: 'context-mismatch';
      mismatches: ContextField[];
      unexpectedRecipients?: Fingerprint[];
      missingRecipients?: Fingerprint[];
    }
  | { status: 'not-for-me' }
  /**
   * A re-key statement that verified (signer, team, readers, packets): the content is the base
   * version's, which the caller opens with `baseSessionKey` (and `dataSha256`) and shows only
   * if it verifies as that version.
   */
  | {
      status: 'rekeyed';
      rekey: {
        teamId: string;
        by: UserId;
        signedAt: Date;
        baseVersion: number;
        baseDataSha256: string;
        /**
         * The keys it is sealed to that no valid grant explains (a person granted, or a team
         * granted, by any of its keys): each must be a reader of the base (`rekeyAddsNoReader`).
         */
        sealedBeyondGrants: Fingerprint[];
      };
      baseSessionKey: SessionKey;
    };

/**
 * The grant acceptance rule (DESIGN §6): the server's recipient list must equal the envelope's
 * recipients plus the grantees of current grants for this record that verify and were signed by
 * the author (with the author's pinned key) or the owner (with `ownerFingerprint`).
 */
export async function checkRecipientList(opts: {
  recordId: RecordId;
  ownerId: UserId;
  authorId: UserId;
  authorFingerprint: Fingerprint;
  ownerFingerprint?: Fingerprint;
  envelopeRecipients: Fingerprint[];
  serverRecipients: Fingerprint[];
  grants?: GrantEvidence[];
  teamGrants?: GrantEvidence[];
  teams?: TeamState[];
  now?: Date;
}): Promise<
  | {
      ok: true;
      accepted: Fingerprint[];
      grants: Grant[];
      /** Team keys valid team grants add (listed or not). */ teamKeys: Fingerprint[];
    }
  | { ok: false; unexpected: Fingerprint[]; missing: Fingerprint[] }
> {
  const accepted = new Set<string>(opts.envelopeRecipients);
  const acceptedGrants: Grant[] = [];
  for (const evidence of opts.grants ?? []) {
    // One parse per signer key serves both its fingerprint and the signature check (this read
    // every grant's key twice, uncached, on every record opened).
    let signer: Awaited<ReturnType<typeof parsePublicKeyCached>>;
    try {
      signer = await parsePublicKeyCached(evidence.signerPublicKey);
    } catch {
      continue; // an unreadable signer key is simply not evidence
    }
    if (signer.isPrivate()) continue; // nor is a private key block
    const signerFingerprint = signer.getFingerprint();
    const result = await verifyGrantWithKey(evidence.signedGrant, signer).catch(() => ({
      status: 'bad-signature' as const,
    }));
    if (result.status !== 'verified') continue;
    const g = result.grant;
    const byAuthor = g.grantedBy === opts.authorId && signerFingerprint === opts.authorFingerprint;
    const byOwner =
      g.grantedBy === opts.ownerId &&
      opts.ownerFingerprint !== undefined &&
      signerFingerprint === opts.ownerFingerprint;
    if (g.recordId !== opts.recordId || !(byAuthor || byOwner) || !grantIsCurrent(g, opts.now))
      continue;
    accepted.add(g.granteeFingerprint);
    acceptedGrants.push(g);
  }
  // A team grant allows the key of its time; a re-keyed version names the team's newer key in
  // its envelope instead, so the granted key may be absent (the team then reads by the newer one).
  const granted = new Set<string>();
  for (const evidence of opts.teamGrants ?? []) {
    const key = await teamKeyGranted(evidence, opts);
    if (key && !accepted.has(key)) granted.add(key);
  }
  const server = new Set<string>(opts.serverRecipients.map((fp) => parseFingerprint(fp)));
  const unexpected = [...server].filter(
    (fp) => !accepted.has(fp) && !granted.has(fp),
  ) as Fingerprint[];
  const missing = [...accepted].filter((fp) => !server.has(fp)) as Fingerprint[];
  if (unexpected.length > 0 || missing.length > 0) return { ok: false, unexpected, missing };
  const readers = [...accepted, ...[...granted].filter((fp) => server.has(fp))];
  return {
    ok: true,
    accepted: readers.sort() as Fingerprint[],
    grants: acceptedGrants,
    teamKeys: [...granted] as Fingerprint[],
  };
}

/**
 * The reader rule for team keys an author sealed to (docs/care-teams.md): a key of a verified
 * team counts only if the team's statements say it was the team's key when the version was
 * signed; a version sealed to a retired key after its retirement (a stale or lied-to writer,
 * which a removed member may still read) is refused.
 */
function sealedToRetiredTeamKey(
  recipients: readonly string[],
  teams: readonly TeamState[],
  signedAt: Date,
): boolean {
  // OpenPGP signature times are whole seconds: take the key current at the end of that second, so
  // a key retired within it counts as retired (a rotation and a write in the same second: refused).
  const latest = new Date(signedAt.getTime() + 999);
  return teams.some((team) =>
    team.keys.some(
      (k) =>
        recipients.includes(k.fingerprint) &&
        teamKeyAt(team, latest)?.fingerprint !== k.fingerprint,
    ),
  );
}

/**
 * The team key a team grant adds to a record's readers, or null when it is no evidence: it must
 * verify, be signed by the author or the owner (pinned keys, as for a person grant), name this
 * record, be current, and name a team whose verified state the reader holds (id and genesis);
 * the key is the one that team's statements say was current when the grant was signed.
 */
async function teamKeyGranted(
  evidence: GrantEvidence,
  opts: {
    recordId: RecordId;
    ownerId: UserId;
    authorId: UserId;
    authorFingerprint: Fingerprint;
    ownerFingerprint?: Fingerprint;
    teams?: TeamState[];
    now?: Date;
  },
): Promise<Fingerprint | null> {
  let signer: Awaited<ReturnType<typeof parsePublicKeyCached>>;
  try {
    signer = await parsePublicKeyCached(evidence.signerPublicKey);
  } catch {
    return null;
  }
  if (signer.isPrivate()) return null;
  const result = await verifyTeamGrantWithKey(evidence.signedGrant, signer);
  if (result.status !== 'verified') return null;
  const g = result.grant;
  const signerFingerprint = signer.getFingerprint();
  const byAuthor = g.grantedBy === opts.authorId && signerFingerprint === opts.authorFingerprint;
  const byOwner =
    g.grantedBy === opts.ownerId &&
    opts.ownerFingerprint !== undefined &&
    signerFingerprint === opts.ownerFingerprint;
  if (g.recordId !== opts.recordId || !(byAuthor || byOwner) || !grantIsCurrent(g, opts.now))
    return null;
  const team = (opts.teams ?? []).find((t) => t.teamId === g.teamId && t.genesis === g.genesis);
  return team ? (teamKeyAt(team, g.at)?.fingerprint ?? null) : null;
}

/**
 * Opens a record: decrypt with `myKey`, require exactly one valid signature by the expected
 * author's key, then require that the envelope matches what the server says. Content is
 * returned only with `status: 'verified'`; everything else is a tamper warning for the UI.
 * @throws CryptoError `unsupported-format` for an authentic envelope of a newer format version.
 */
export async function openRecord<C extends JsonObject = JsonObject>(
  opts: {
    message: string;
    expect: RecordExpectation;
  } & DecryptWith,
): Promise<OpenRecordResult<C>> {
  const { expect: x } = opts;
  if (typeof opts.message !== 'string') return { status: 'bad-signature', reason: 'malformed' };
  if (x.dataSha256 !== undefined && (await dataSha256(opts.message)) !== x.dataSha256)
    return { status: 'context-mismatch', mismatches: ['rekey-base'] };
  const signer = x.rekeyedBy ?? { publicKey: x.authorPublicKey, fingerprint: x.authorFingerprint };
  const outcome = await decryptVerified({
    message: opts.message,
    ...('myKey' in opts ? { myKey: opts.myKey } : { sessionKey: opts.sessionKey }),
    authorPublicKey: signer.publicKey,
    ...(signer.fingerprint ? { authorFingerprint: signer.fingerprint } : {}),
    maxBytes: MAX_RECORD_MESSAGE,
  });
  if (outcome.status !== 'ok') return outcome;
  let value: unknown = null;
  try {
    value = JSON.parse(fromUtf8(unpad(outcome.data))) as unknown;
  } catch {
    value = null;
  }
  if (isPlainObject(value) && value.v !== 1) {
    throw new CryptoError(
      'unsupported-format',
      `record envelope format v${String(value.v)} is not supported by this version of the app`,
    );
  }
  if (x.rekeyedBy)
    return openRekeyStatement(opts.message, value, outcome, { ...x, rekeyedBy: x.rekeyedBy });
  const envelope = parseEnvelope(value);
  if (!envelope) return { status: 'context-mismatch', mismatches: ['envelope'] };

  const mismatches: ContextField[] = [];
  if (envelope.recordId !== x.recordId) mismatches.push('recordId');
  if (envelope.version !== x.version) mismatches.push('version');
  if (x.minVersion !== undefined && envelope.version < x.minVersion)
    mismatches.push('version-rollback');
  if (envelope.ownerId !== x.ownerId) mismatches.push('ownerId');
  if (envelope.authorId !== x.authorId) mismatches.push('authorId');
  if (envelope.part !== x.part) mismatches.push('part');
  const authorFingerprint = outcome.authorFingerprint;
  const list = await recipientListOf(x, authorFingerprint, envelope.recipients);
  if (!list.ok || sealedToRetiredTeamKey(envelope.recipients, x.teams ?? [], outcome.signedAt)) {
    mismatches.push('recipients');
    if (list.ok) return { status: 'context-mismatch', mismatches };
    return {
      status: 'context-mismatch',
      mismatches,
      unexpectedRecipients: list.unexpected,
      missingRecipients: list.missing,
    };
  }
  if (
    x.readerKeys &&
    !(await packetsMatchReaders(opts.message, list.accepted, x.readerKeys, x.now))
  )
    mismatches.push('packets');
  if (mismatches.length > 0) return { status: 'context-mismatch', mismatches };
  const gossip = [envelope.ktHead, ...list.grants.map((g) => g.ktHead)].filter(
    (h): h is SignedTreeHead => h !== undefined,
  );
  return {
    status: 'verified',
    envelope: envelope as RecordEnvelope<C>,
    signedAt: outcome.signedAt,
    gossip,
  };
}

/**
 * Readers = packets (DESIGN §12): each session key packet of `message` is addressed to an
 * encryption key of exactly one of the `readers` (fingerprints), each reader whose key is given
 * has exactly one, and the packets no given key explains are at most the readers without a key.
 * A server that hid a reader (list entry and grant removed, packet kept) fails here.
 */
async function packetsMatchReaders(
  message: string,
  readers: readonly Fingerprint[],
  readerKeys: readonly string[],
  now = new Date(),
): Promise<boolean> {
  const wanted = new Set<string>(readers);
  const ownerOfKeyId = new Map<string, string>();
  for (const armored of readerKeys) {
    const key = await validatedPublicKey(armored, now).catch(() => null);
    const fingerprint = key?.key.getFingerprint();
    if (!key || !fingerprint || !wanted.has(fingerprint)) continue;
    for (const id of key.encryptionKeyIds) ownerOfKeyId.set(id, fingerprint);
  }
  const known = new Set(ownerOfKeyId.values());
  const summary = await inspectMessage(message, { maxBytes: MAX_RECORD_MESSAGE }).catch(() => null);
  if (!summary) return false;
  const covered = new Set<string>();
  let unexplained = 0;
  for (const id of summary.recipientKeyIds) {
    const fingerprint = ownerOfKeyId.get(id);
    if (fingerprint === undefined) unexplained += 1;
    else if (covered.has(fingerprint)) return false;
    else covered.add(fingerprint);
  }
  return covered.size === known.size && unexplained <= wanted.size - known.size;
}

/** A recipient list that could not be checked: as a mismatch. */
const NO_LIST = { ok: false as const, unexpected: [], missing: [] };

/**
 * checkRecipientList for what the record expectation says (server list, grants, teams) against
 * the readers a signed envelope or re-key statement names; one that cannot be checked is a
 * mismatch.
 */
function recipientListOf(
  x: RecordExpectation,
  authorFingerprint: Fingerprint,
  signedRecipients: Fingerprint[],
): ReturnType<typeof checkRecipientList> {
  return checkRecipientList({
    recordId: x.recordId,
    ownerId: x.ownerId,
    authorId: x.authorId,
    authorFingerprint,
    ...(x.ownerFingerprint ? { ownerFingerprint: x.ownerFingerprint } : {}),
    envelopeRecipients: signedRecipients,
    serverRecipients: x.recipients,
    ...(x.grants ? { grants: x.grants } : {}),
    ...(x.teamGrants ? { teamGrants: x.teamGrants } : {}),
    ...(x.teams ? { teams: x.teams } : {}),
    ...(x.now ? { now: x.now } : {}),
  }).catch(() => NO_LIST);
}

/**
 * The re-key branch of `openRecord` (docs/care-teams.md "Re-keying"): the statement names this
 * record, version and owner, and the version before as its base; it is signed by an admin of a
 * team the reader verified (`current-admin`), and sealed to that team's key current when it was
 * signed; the server's readers are the statement's plus valid grants, and the packets are theirs.
 */
async function openRekeyStatement(
  message: string,
  value: unknown,
  outcome: { signedAt: Date; authorFingerprint: Fingerprint },
  x: RecordExpectation & { rekeyedBy: NonNullable<RecordExpectation['rekeyedBy']> },
): Promise<OpenRecordResult<never>> {
  const statement = parseRekeyStatement(value);
  if (!statement) return { status: 'context-mismatch', mismatches: ['envelope'] };
  const mismatches: ContextField[] = [];
  if (statement.recordId !== x.recordId) mismatches.push('recordId');
  if (statement.version !== x.version) mismatches.push('version');
  if (x.minVersion !== undefined && statement.version < x.minVersion)
    mismatches.push('version-rollback');
  if (statement.ownerId !== x.ownerId) mismatches.push('ownerId');
  const team = (x.teams ?? []).find(
    (t) => t.teamId === statement.teamId && t.genesis === statement.genesis,
  );
  const admin =
    team &&
    teamMember(team, { userId: x.rekeyedBy.userId, fingerprint: outcome.authorFingerprint });
  const keyThen = team && teamKeyAt(team, new Date(outcome.signedAt.getTime() + 999));
  const sessionKey = baseSessionKeyOf(statement);
  if (
    statement.base.version !== x.version - 1 ||
    !team ||
    !keyThen ||
    !statement.recipients.includes(keyThen.fingerprint) ||
    (x.rekeyedBy.check === 'current-admin' && admin?.admin !== true) ||
    !sessionKey
  ) {
    mismatches.push('rekey');
  }
  const authorFingerprint =
    x.authorFingerprint ??
    ((await parsePublicKeyCached(x.authorPublicKey).catch(() => null))?.getFingerprint() as
      Fingerprint | undefined);
  const list = authorFingerprint
    ? await recipientListOf(x, authorFingerprint, statement.recipients)
    : NO_LIST;
  if (!list.ok || sealedToRetiredTeamKey(statement.recipients, x.teams ?? [], outcome.signedAt)) {
    mismatches.push('recipients');
    if (list.ok) return { status: 'context-mismatch', mismatches };
    return {
      status: 'context-mismatch',
      mismatches,
      unexpectedRecipients: list.unexpected,
      missingRecipients: list.missing,
    };
  }
  if (x.readerKeys && !(await packetsMatchReaders(message, list.accepted, x.readerKeys, x.now)))
    mismatches.push('packets');
  if (mismatches.length > 0 || !sessionKey) return { status: 'context-mismatch', mismatches };
  return {
    status: 'rekeyed',
    rekey: {
      teamId: statement.teamId,
      by: x.rekeyedBy.userId,
      signedAt: outcome.signedAt,
      baseVersion: statement.base.version,
      baseDataSha256: statement.base.dataSha256,
      sealedBeyondGrants: statement.recipients.filter((fp) => {
        const byGrant = list.grants.some((g) => g.granteeFingerprint === fp);
        const team = (x.teams ?? []).find((t) => t.keys.some((k) => k.fingerprint === fp));
        const teamGranted = team?.keys.some((k) => list.teamKeys.includes(k.fingerprint)) ?? false;
        return !byGrant && !teamGranted;
      }),
    },
    baseSessionKey: sessionKey,
  };
}
