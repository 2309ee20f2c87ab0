// Re-keying a record after a care team's key changed (DESIGN §12–§13, docs/care-teams.md
// "Re-keying records after a rotation"). A re-key version carries no content of its own: its
// signed plaintext is a statement by a team admin that names the version it re-keys (its number,
// the SHA-256 of its encrypted data, and its session key). A reader opens that base version with
// the session key and shows the base's content, verified under its own author's signature, so
// neither the admin nor the server can change what the record says by re-keying it.
import { CryptoError } from './errors';
import {
  canonicalJson,
  fromBase64Url,
  toBase64Url,
  utf8,
  isIsoTime,
  bufferSource,
  type Json,
} from './encoding';
import { decodeCheckedMessage } from './inspect';
import { encryptToKeys, type UnlockedKey } from './keys';
import { createSessionKey, encryptSigned, type SessionKey } from './messages';
import { pad } from './padding';
import { mySessionKey } from './sharing';
import type { TeamState } from './teams/statements';
import type { ArmoredMessage, Fingerprint, RecordId, UserId } from './types';

export const REKEY_PURPOSE = 'medseal/record-rekey';

/** The signed plaintext of a re-key version (format 1). */
export interface RekeyStatement {
  v: 1;
  purpose: typeof REKEY_PURPOSE;
  recordId: RecordId;
  /** This version's number: its base's + 1. */
  version: number;
  ownerId: UserId;
  /** The team whose key changed, as its grants name it; the signer is one of its admins. */
  teamId: string;
  genesis: string;
  /** Fingerprints of every key this version is encrypted to, sorted (as an envelope's). */
  recipients: Fingerprint[];
  base: {
    version: number;
    /** Base64url SHA-256 of the base version's encrypted data packet (`dataSha256`). */
    dataSha256: string;
    /** The base message's AES-256 session key, base64url: a reader of this version opens the base with it. */
    sessionKey: string;
  };
  /** ISO 8601. */
  createdAt: string;
}

/** What the admin's client says; the recipients and the base are filled in here. */
export interface RekeyInput {
  recordId: RecordId;
  version: number;
  ownerId: UserId;
  teamId: string;
  genesis: string;
}

/**
 * Base64url SHA-256 of a message's encrypted data packet (what follows its session key packets).
 * A share splices packets in front of it and never changes it, so the record's current message
 * and the version the history keeps have the same one. Null for anything that is no message.
 */
export async function dataSha256(message: string): Promise<string | null> {
  let data: Uint8Array;
  try {
    // No size limit here: opening the message enforces the record's.
    const { bytes, framed } = decodeCheckedMessage(message, Number.MAX_SAFE_INTEGER);
    const last = framed[framed.length - 1];
    if (!last) return null;
    data = bytes.subarray(last.start);
  } catch {
    return null;
  }
  return toBase64Url(
    new Uint8Array(await globalThis.crypto.subtle.digest('SHA-256', bufferSource(data))),
  );
}

/**
 * Seals a re-key version of `base.message` (version `rekey.version - 1`, which `base.myKey` can
 * open): a statement signed by `signerKey` naming the base and its session key, encrypted under
 * a fresh session key to `recipientKeys` only. Nothing of the base's content is read or copied.
 * @throws CryptoError `invalid-argument`, `decryption-failed` (the base is not for `myKey`),
 * `unsupported-format` (a base session key other than AES-256), and key codes.
 */
export async function sealRekey(opts: {
  rekey: RekeyInput;
  base: { message: string; myKey: UnlockedKey };
  signerKey: UnlockedKey;
  recipientKeys: string[];
  now?: Date;
}): Promise<{ message: ArmoredMessage; recipients: Fingerprint[] }> {
  const r = opts.rekey;
  if (!Number.isSafeInteger(r.version) || r.version < 2)
    throw new CryptoError('invalid-argument', 'a re-key is version 2 or later');
  for (const [name, value] of Object.entries({
    recordId: r.recordId,
    ownerId: r.ownerId,
    teamId: r.teamId,
    genesis: r.genesis,
  })) {
    if (typeof value !== 'string' || value === '')
      throw new CryptoError('invalid-argument', `rekey.${name} must be a non-empty string`);
  }
  if (opts.recipientKeys.length === 0)
    throw new CryptoError('invalid-argument', 'a re-key needs at least one recipient');
  const baseKey = await mySessionKey({ message: opts.base.message }, opts.base.myKey);
  if (baseKey.algorithm !== 'aes256')
    throw new CryptoError(
      'unsupported-format',
      `the base version uses a ${baseKey.algorithm} session key`,
    );
  const sha = await dataSha256(opts.base.message);
  if (sha === null) throw new CryptoError('invalid-argument', 'the base is not a record message');
  const base = { version: r.version - 1, dataSha256: sha, sessionKey: toBase64Url(baseKey.data) };
  let recipients: Fingerprint[] = [];
  const message = (await encryptToKeys(opts.recipientKeys, (keys) => {
    recipients = keys.map((k) => k.getFingerprint() as Fingerprint).sort();
    const statement: RekeyStatement = {
      v: 1,
      purpose: REKEY_PURPOSE,
      ...r,
      recipients,
      base,
      createdAt: (opts.now ?? new Date()).toISOString(),
    };
    // A fresh session key: the retired team key, which the person who left may have kept, opens nothing of this version.
    return encryptSigned({
      data: pad(utf8(canonicalJson(statement as unknown as Json))),
      signer: opts.signerKey,
      recipients: keys,
      sessionKey: createSessionKey(),
      format: 'armored',
    });
  })) as ArmoredMessage;
  return { message, recipients };
}

/** The statement, or null when `value` is not exactly one (format 1). */
export function parseRekeyStatement(value: unknown): RekeyStatement | null {
  if (typeof value !== 'object' || value === null || Array.isArray(value)) return null;
  const s = value as Record<string, unknown>;
  const keys = [
    'v',
    'purpose',
    'recordId',
    'version',
    'ownerId',
    'teamId',
    'genesis',
    'recipients',
    'base',
    'createdAt',
  ];
  if (Object.keys(s).length !== keys.length || !keys.every((k) => k in s)) return null;
  const base = s.base as Record<string, unknown> | null;
  const ok =
    s.v === 1 &&
    s.purpose === REKEY_PURPOSE &&
    typeof s.recordId === 'string' &&
    Number.isSafeInteger(s.version) &&
    typeof s.ownerId === 'string' &&
    typeof s.teamId === 'string' &&
    typeof s.genesis === 'string' &&
    Array.isArray(s.recipients) &&
    s.recipients.every((r) => typeof r === 'string' && /^[0-9a-f]{40}$/.test(r)) &&
    isIsoTime(s.createdAt) &&
    typeof base === 'object' &&
    base !== null &&
    Object.keys(base).length === 3 &&
    Number.isSafeInteger(base.version) &&
    typeof base.dataSha256 === 'string' &&
    typeof base.sessionKey === 'string';
  return ok ? (s as unknown as RekeyStatement) : null;
}

/** The base's session key a statement carries, or null when it is not a 32-byte AES-256 key. */
export function baseSessionKeyOf(statement: RekeyStatement): SessionKey | null {
  const data = fromBase64Url(statement.base.sessionKey);
  if (!data || data.length !== 32) return null;
  return Object.freeze({ kind: 'session-key', data, algorithm: 'aes256' });
}

/**
 * Whether a re-key adds no reader to its base (docs/care-teams.md): each key it is sealed to
 * beyond what valid grants explain (`sealedBeyondGrants` of `openRecord`) is one the base
 * version was sealed to, a team counting by any of its keys (its newer one after a rotation).
 * `base`: the base's verified envelope recipients. Dropping a reader is not checked here: a
 * server can always refuse to serve someone, and the server builds a re-key's readers itself.
 */
export function rekeyAddsNoReader(opts: {
  base: readonly string[];
  sealedBeyondGrants: readonly string[];
  teams: readonly TeamState[];
}): boolean {
  const teamOf = (fp: string) =>
    opts.teams.find((t) => t.keys.some((k) => k.fingerprint === fp))?.teamId;
  const reader = (fp: string) => {
    const team = teamOf(fp);
    return team === undefined ? `key:${fp}` : `team:${team}`;
  };
  const before = new Set(opts.base.map(reader));
  return opts.sealedBeyondGrants.every((fp) => before.has(reader(fp)));
}
