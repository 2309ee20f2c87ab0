// A care team's own OpenPGP key (DESIGN §13): same v4 profile as a user's key. Records shared
// with the team get one PKESK for it; its private key travels only inside "key envelopes", one
// small message per member encrypted to that member's key, and is unwrapped in the crypto
// worker, where it stays behind a handle like the user's own key.
import * as openpgp from 'openpgp';
import { CryptoError } from '../errors';
import { canonicalJson, fromBase64Url, fromUtf8, toBase64Url, utf8 } from '../encoding';
import { decodeCheckedMessage } from '../inspect';
import {
  checkPublicKey,
  encryptToKeys,
  generateKeyPair,
  parseKey,
  publicPacketsHash,
  validatePublicKey,
  wrapUnlocked,
  type UnlockedKey,
} from '../keys';
import { MESSAGE_CONFIG, READ_CONFIG } from '../openpgp-config';
import type { ArmoredMessage, ArmoredPublicKey, Fingerprint, PublicKeyInfo } from '../types';
import type { TeamKeyRef } from './statements';

const ENVELOPE_PURPOSE = 'medseal/team-key';
/** A key envelope is ~1.5 KiB armored; anything much larger is not one. */
export const MAX_TEAM_KEY_ENVELOPE_CHARS = 16 * 1024;

/**
 * The reference statements use for a team key: its fingerprint and the SHA-256 of the whole
 * public key, so a key with the same primary but other subkeys is not the same team key.
 * @throws CryptoError `invalid-key`.
 */
export async function teamKeyRef(publicKey: string): Promise<TeamKeyRef> {
  const key = await parseKey(publicKey);
  return {
    fingerprint: key.getFingerprint() as Fingerprint,
    keyHash: await publicPacketsHash(key),
  };
}

export interface GeneratedTeamKey {
  privateKey: UnlockedKey;
  publicKey: ArmoredPublicKey;
  ref: TeamKeyRef;
}

/**
 * A new team key (the creation, and every rotation). Its user ID names no person and no team
 * name, only that it is a Medseal team key: the team's name lives in the signed statements.
 */
export async function generateTeamKey(opts: { date?: Date } = {}): Promise<GeneratedTeamKey> {
  const generated = await generateKeyPair({ name: 'Medseal care team' }, opts.date);
  return {
    privateKey: generated.privateKey,
    publicKey: generated.publicKey,
    ref: await teamKeyRef(generated.publicKey),
  };
}

/**
 * Checks a team public key the server stores or hands out against the reference a verified
 * statement names, plus every check of `readPublicKey` (v4, algorithms, self-signatures,
 * usable encryption subkey).
 * @throws CryptoError `team-key-mismatch`, and the `readPublicKey` codes.
 */
export async function checkTeamPublicKey(opts: {
  publicKey: string;
  expected: TeamKeyRef;
  now?: Date;
}): Promise<PublicKeyInfo> {
  if (typeof opts.publicKey !== 'string' || opts.publicKey.includes('PRIVATE KEY BLOCK')) {
    throw new CryptoError('not-public-key', 'a team public key must be an armored public key');
  }
  const key = await parseKey(opts.publicKey);
  const info = await validatePublicKey(key, opts.now ?? new Date());
  if (
    info.fingerprint !== opts.expected.fingerprint ||
    (await publicPacketsHash(key)) !== opts.expected.keyHash
  ) {
    throw new CryptoError('team-key-mismatch', 'this is not the team key the statements name');
  }
  return info;
}

/** What a key envelope says it holds, checked by the member who opens it. */
export interface TeamKeyEnvelopeContext {
  teamId: string;
  /** The key's generation (1 = created with the team, +1 per rotation). */
  gen: number;
  memberId: string;
}

interface EnvelopePayload extends TeamKeyEnvelopeContext {
  v: 1;
  purpose: typeof ENVELOPE_PURPOSE;
  memberFingerprint: Fingerprint;
  teamKey: TeamKeyRef;
  /** base64url of the binary, unprotected private key (it is inside the encryption). */
  key: string;
}

/**
 * Encrypts the team's private key to one member ("join": the only crypto a join needs, whatever
 * the number of records shared with the team). Not signed: a member accepts the key inside
 * only when it is exactly the team key the admin-signed statements name (`unwrapTeamKey`), a
 * proof no signature would add to, since no one without the private key can make one that fits.
 * @throws CryptoError `invalid-argument`, and the `readPublicKey` codes for the member's key.
 */
export async function wrapTeamKey(opts: {
  teamKey: UnlockedKey;
  context: TeamKeyEnvelopeContext;
  memberPublicKey: string;
}): Promise<ArmoredMessage> {
  const { context } = opts;
  if (!Number.isSafeInteger(context.gen) || context.gen < 1) {
    throw new CryptoError('invalid-argument', 'gen is a positive integer');
  }
  const teamKey = opts.teamKey.key;
  const secret = teamKey.write();
  try {
    return (await encryptToKeys([opts.memberPublicKey], async ([member]) => {
      if (!member) throw new CryptoError('invalid-argument', 'no member key');
      const payload: EnvelopePayload = {
        v: 1,
        purpose: ENVELOPE_PURPOSE,
        teamId: context.teamId,
        gen: context.gen,
        memberId: context.memberId,
        memberFingerprint: member.getFingerprint() as Fingerprint,
        teamKey: {
          fingerprint: opts.teamKey.fingerprint,
          keyHash: await publicPacketsHash(teamKey),
        },
        key: toBase64Url(secret),
      };
      const message = await openpgp.createMessage({
        binary: utf8(canonicalJson(payload)),
        format: 'binary',
      });
      return openpgp.encrypt({
        message,
        encryptionKeys: member,
        format: 'armored',
        config: MESSAGE_CONFIG,
      });
    })) as ArmoredMessage;
  } finally {
    secret.fill(0);
  }
}

function parsePayload(bytes: Uint8Array): EnvelopePayload | null {
  let value: unknown;
  try {
    value = JSON.parse(fromUtf8(bytes));
  } catch {
    return null;
  }
  if (typeof value !== 'object' || value === null) return null;
  const p = value as Record<string, unknown>;
  const fields = [
    'v',
    'purpose',
    'teamId',
    'gen',
    'memberId',
    'memberFingerprint',
    'teamKey',
    'key',
  ];
  if (!Object.keys(p).every((k) => fields.includes(k))) return null;
  if (p.v !== 1 || p.purpose !== ENVELOPE_PURPOSE) return null;
  const ref = p.teamKey as Record<string, unknown> | null;
  const ok =
    typeof p.teamId === 'string' &&
    Number.isSafeInteger(p.gen) &&
    typeof p.memberId === 'string' &&
    typeof p.memberFingerprint === 'string' &&
    typeof p.key === 'string' &&
    typeof ref === 'object' &&
    ref !== null &&
    typeof ref.fingerprint === 'string' &&
    typeof ref.keyHash === 'string';
  return ok ? (p as unknown as EnvelopePayload) : null;
}

/**
 * Opens a key envelope with the member's own key and returns the team key, only if it is
 * exactly the expected team key (`expected` comes from the verified statements: fingerprint and
 * hash of the public key), for this team, generation and member, its secret parts match its
 * public parts, and it passes every check of `readPublicKey`.
 * @throws CryptoError `decryption-failed` (not for this key, or damaged), `team-key-mismatch`
 * (another team, generation, member or key than expected; or not a key envelope), `invalid-key`.
 */
export async function unwrapTeamKey(opts: {
  message: string;
  myKey: UnlockedKey;
  context: TeamKeyEnvelopeContext;
  expected: TeamKeyRef;
  now?: Date;
}): Promise<UnlockedKey> {
  let bytes: Uint8Array;
  try {
    bytes = decodeCheckedMessage(opts.message, MAX_TEAM_KEY_ENVELOPE_CHARS).bytes;
  } catch (cause) {
    throw new CryptoError('decryption-failed', 'not an encrypted key envelope', { cause });
  }
  let plain: Uint8Array;
  try {
    const message = await openpgp.readMessage({ binaryMessage: bytes, config: READ_CONFIG });
    const { data } = await openpgp.decrypt({
      message,
      decryptionKeys: opts.myKey.key,
      format: 'binary',
      config: READ_CONFIG,
    });
    plain = data;
  } catch (cause) {
    throw new CryptoError('decryption-failed', 'this key cannot open the key envelope', { cause });
  }
  const mismatch = (what: string) =>
    new CryptoError('team-key-mismatch', `the key envelope holds ${what}`);
  const payload = parsePayload(plain);
  if (!payload) throw mismatch('something that is not a team key');
  const { context, expected } = opts;
  if (payload.teamId !== context.teamId || payload.gen !== context.gen) {
    throw mismatch('the key of another team or generation');
  }
  if (
    payload.memberId !== context.memberId ||
    payload.memberFingerprint !== opts.myKey.fingerprint
  ) {
    throw mismatch('a key meant for another member');
  }
  const secret = fromBase64Url(payload.key);
  plain.fill(0);
  if (!secret) throw mismatch('an unreadable key');
  let key: openpgp.PrivateKey;
  try {
    // The key keeps views into `secret`: it is the key's own memory from here on.
    key = await openpgp.readPrivateKey({ binaryKey: secret, config: READ_CONFIG });
  } catch (cause) {
    throw new CryptoError('invalid-key', 'the key envelope holds an unreadable key', { cause });
  }
  if (
    key.getFingerprint() !== expected.fingerprint ||
    (await publicPacketsHash(key)) !== expected.keyHash
  ) {
    throw mismatch('another key than the one the team statements name');
  }
  if (!key.isDecrypted())
    throw new CryptoError('invalid-key', 'the team key in the envelope is locked');
  try {
    // Every secret part must belong to its public part (openpgp's validate() checks only one).
    for (const { keyPacket } of key.getKeys()) {
      if (!(keyPacket instanceof openpgp.SecretKeyPacket)) throw new Error('a part has no secret');
      await keyPacket.validate();
    }
  } catch (cause) {
    throw new CryptoError(
      'invalid-key',
      "the team key's secret parts do not match its public parts",
      { cause },
    );
  }
  await checkPublicKey(key.toPublic(), opts.now ?? new Date());
  return wrapUnlocked(key);
}
