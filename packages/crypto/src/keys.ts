// User keys (DESIGN §2): v4, Ed25519 primary (certify+sign) + X25519 (cv25519) encryption subkey.
import * as openpgp from 'openpgp';
import { CryptoError } from './errors';
import { MESSAGE_CONFIG, READ_CONFIG } from './openpgp-config';
import type { ArmoredPrivateKey, ArmoredPublicKey, Fingerprint, PublicKeyInfo } from './types';

/** Minimum RSA modulus we accept from other tools (issue 3: reject RSA < 3072). */
const MIN_RSA_BITS = 3072;

const RSA_ALGORITHMS = new Set(['rsaEncryptSign', 'rsaEncrypt', 'rsaSign']);
const ACCEPTED_ALGORITHMS = new Set([
  ...RSA_ALGORITHMS,
  'eddsaLegacy',
  'ed25519',
  'ed448',
  'ecdh',
  'ecdsa',
  'x25519',
  'x448',
]);

export interface GeneratedUserKey {
  /** Unprotected private key object; lock it with `lockPrivateKey` before it leaves memory. */
  privateKey: UnlockedKey;
  publicKey: ArmoredPublicKey;
  fingerprint: Fingerprint;
}

/**
 * An unlocked private key held in memory. Opaque to callers: only this package looks inside.
 * In the browser these live only inside the crypto worker (DESIGN §4); the UI holds handles.
 */
export interface UnlockedKey {
  readonly kind: 'unlocked-key';
  readonly fingerprint: Fingerprint;
  /** @internal */
  readonly key: openpgp.PrivateKey;
}

export function wrapUnlocked(key: openpgp.PrivateKey): UnlockedKey {
  return Object.freeze({ kind: 'unlocked-key', fingerprint: key.getFingerprint() as Fingerprint, key });
}

/** Public half of an unlocked key, armored. */
export function publicKeyOf(key: UnlockedKey): ArmoredPublicKey {
  return key.key.toPublic().armor(MESSAGE_CONFIG) as ArmoredPublicKey;
}

/**
 * Makes a user's key pair in memory. User ID `name <email>`. No expiry (keys are replaced
 * through the app, not by time).
 */
export async function generateUserKey(opts: { name: string; email: string; date?: Date }): Promise<GeneratedUserKey> {
  if (!opts.email || !opts.email.includes('@')) throw new CryptoError('invalid-argument', 'email must be an address');
  const { privateKey } = await openpgp.generateKey({
    type: 'ecc',
    curve: 'curve25519Legacy',
    userIDs: [{ name: opts.name, email: opts.email }],
    format: 'object',
    ...(opts.date ? { date: opts.date } : {}),
    config: MESSAGE_CONFIG,
  });
  const unlocked = wrapUnlocked(privateKey);
  return { privateKey: unlocked, publicKey: publicKeyOf(unlocked), fingerprint: unlocked.fingerprint };
}

/** Parses an armored (or binary) key without judging it. Throws `invalid-key`. */
export async function parseKey(input: string | Uint8Array): Promise<openpgp.Key> {
  try {
    return typeof input === 'string'
      ? await openpgp.readKey({ armoredKey: input, config: READ_CONFIG })
      : await openpgp.readKey({ binaryKey: input, config: READ_CONFIG });
  } catch (cause) {
    throw new CryptoError('invalid-key', 'not a readable OpenPGP key', { cause });
  }
}

function isWeak(info: openpgp.AlgorithmInfo): boolean {
  if (!ACCEPTED_ALGORITHMS.has(info.algorithm)) return true;
  return RSA_ALGORITHMS.has(info.algorithm) && (info.bits ?? 0) < MIN_RSA_BITS;
}

/** Key IDs (16 hex) of the keys of `key` that openpgp.js would accept for encryption at `now`. */
export async function usableEncryptionKeyIds(key: openpgp.Key, now: Date): Promise<string[]> {
  const ids: string[] = [];
  for (const k of [key, ...key.subkeys]) {
    try {
      const found = await key.getEncryptionKey(k.getKeyID(), now, undefined, READ_CONFIG);
      const hex = found.getKeyID().toHex();
      if (!ids.includes(hex)) ids.push(hex);
    } catch {
      // this one is not an encryption key at `now` (wrong flags, expired, revoked): skip it
    }
  }
  return ids;
}

/**
 * Reads and validates a public key a client uploaded or the server sent.
 * @throws CryptoError `invalid-key` (unparseable, bad self-signature), `not-public-key` (secret
 * key material), `unsupported-key-version` (not v4), `weak-key` (RSA < 3072, DSA, ElGamal, any
 * unknown algorithm), `key-revoked`, `key-expired`, `no-encryption-subkey`.
 */
export async function readPublicKey(armored: string, opts: { now?: Date } = {}): Promise<PublicKeyInfo> {
  if (typeof armored !== 'string') throw new CryptoError('invalid-key', 'public key must be an armored string');
  if (armored.includes('PRIVATE KEY BLOCK')) {
    throw new CryptoError('not-public-key', 'this is a private key; send only the public key');
  }
  const key = await parseKey(armored);
  return validatePublicKey(key, opts.now ?? new Date());
}

/** The checks of `readPublicKey` on an already parsed key; returns the usable encryption key IDs. */
export async function checkPublicKey(key: openpgp.Key, now: Date): Promise<string[]> {
  if (key.isPrivate()) throw new CryptoError('not-public-key', 'this is a private key; send only the public key');
  if (key.keyPacket.version !== 4) {
    throw new CryptoError('unsupported-key-version', `key version ${key.keyPacket.version} is not supported (v4 only)`);
  }
  for (const k of [key, ...key.subkeys]) {
    if (isWeak(k.getAlgorithmInfo())) {
      const info = k.getAlgorithmInfo();
      throw new CryptoError('weak-key', `key algorithm ${info.algorithm}${info.bits ? ` (${info.bits} bits)` : ''} is too weak`);
    }
  }
  if (await key.isRevoked(undefined, undefined, now, READ_CONFIG)) {
    throw new CryptoError('key-revoked', 'the key has been revoked');
  }
  try {
    await key.verifyPrimaryKey(now, undefined, READ_CONFIG);
  } catch (cause) {
    const expiry = await key.getExpirationTime(undefined, READ_CONFIG).catch(() => null);
    if (expiry instanceof Date && expiry.getTime() <= now.getTime()) {
      throw new CryptoError('key-expired', `the key expired on ${expiry.toISOString()}`, { cause });
    }
    const message = cause instanceof Error ? cause.message : '';
    if (/revoked/i.test(message)) throw new CryptoError('key-revoked', 'the key has been revoked', { cause });
    if (/expired/i.test(message)) throw new CryptoError('key-expired', 'the key has expired', { cause });
    throw new CryptoError('invalid-key', 'the key has no valid self-signature', { cause });
  }
  const encryptionKeyIds = await usableEncryptionKeyIds(key, now);
  if (encryptionKeyIds.length === 0) {
    throw new CryptoError('no-encryption-subkey', 'the key has no usable encryption subkey');
  }
  return encryptionKeyIds;
}

/** `checkPublicKey` plus the summary `readPublicKey` returns. */
export async function validatePublicKey(key: openpgp.Key, now: Date): Promise<PublicKeyInfo> {
  const encryptionKeyIds = await checkPublicKey(key, now);
  return {
    fingerprint: key.getFingerprint() as Fingerprint,
    keyVersion: 4,
    userIds: key.getUserIDs(),
    created: key.getCreationTime(),
    encryptionKeyIds,
    armored: key.armor(MESSAGE_CONFIG) as ArmoredPublicKey,
  };
}

/**
 * Parses and validates recipient keys (all `readPublicKey` checks), once each.
 * @throws the `readPublicKey` codes; `invalid-argument` when the same key appears twice.
 */
export async function loadPublicKeys(armored: string[], now: Date = new Date()): Promise<openpgp.PublicKey[]> {
  const keys = await Promise.all(
    armored.map(async (a) => {
      if (typeof a !== 'string') throw new CryptoError('invalid-key', 'public key must be an armored string');
      const key = await parseKey(a);
      await checkPublicKey(key, now);
      return key as openpgp.PublicKey;
    }),
  );
  const seen = new Set<string>();
  for (const k of keys) {
    const fp = k.getFingerprint();
    if (seen.has(fp)) throw new CryptoError('invalid-argument', `recipient ${fp} is listed twice`);
    seen.add(fp);
  }
  return keys;
}

/**
 * Fingerprint (40 lowercase hex) computed from the key itself; never trust one sent alongside it
 * (DESIGN §2). Throws `invalid-key`, `not-public-key`.
 */
export async function fingerprintOf(armoredPublicKey: string): Promise<Fingerprint> {
  const key = await parseKey(armoredPublicKey);
  if (key.isPrivate()) throw new CryptoError('not-public-key', 'expected a public key');
  return key.getFingerprint() as Fingerprint;
}

/** Reads an armored private key (locked or not). Throws `invalid-key`, `not-private-key`. */
export async function parsePrivateKey(armored: string): Promise<openpgp.PrivateKey> {
  const key = await parseKey(armored);
  if (!key.isPrivate()) throw new CryptoError('not-private-key', 'expected a private key');
  return key;
}

export type { ArmoredPrivateKey };
