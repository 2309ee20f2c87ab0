// User keys (DESIGN §2): v4, Ed25519 primary (certify+sign) + X25519 (cv25519) encryption subkey.
import * as openpgp from 'openpgp';
import { CryptoError } from './errors';
import { bufferSource, toBase64Url } from './encoding';
import { MESSAGE_CONFIG, READ_CONFIG } from './openpgp-config';
import type { ArmoredPrivateKey, ArmoredPublicKey, Fingerprint, PublicKeyInfo } from './types';

/** Minimum RSA modulus we accept from other tools (issue 3: reject RSA < 3072). */
const MIN_RSA_BITS = 3072;

const RSA_ALGORITHMS = new Set(['rsaEncryptSign', 'rsaEncrypt', 'rsaSign']);
const ENCRYPTION_ALGORITHMS = new Set([
  'rsaEncryptSign',
  'rsaEncrypt',
  'ecdh',
  'x25519',
  'x448',
  'elgamal',
]);
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
  return Object.freeze({
    kind: 'unlocked-key',
    fingerprint: key.getFingerprint() as Fingerprint,
    key,
  });
}

/** Public half of an unlocked key, armored. */
export function publicKeyOf(key: UnlockedKey): ArmoredPublicKey {
  return key.key.toPublic().armor(MESSAGE_CONFIG) as ArmoredPublicKey;
}

/**
 * Makes a user's key pair in memory. User ID `name <email>`. No expiry (keys are replaced
 * through the app, not by time).
 */
export async function generateUserKey(opts: {
  name: string;
  email: string;
  date?: Date;
}): Promise<GeneratedUserKey> {
  if (!opts.email || !opts.email.includes('@'))
    throw new CryptoError('invalid-argument', 'email must be an address');
  return generateKeyPair({ name: opts.name, email: opts.email }, opts.date);
}

/** The one key profile of DESIGN §2 (user keys and team keys alike). */
export async function generateKeyPair(
  userID: openpgp.UserID,
  date?: Date,
): Promise<GeneratedUserKey> {
  const { privateKey } = await openpgp.generateKey({
    type: 'ecc',
    curve: 'curve25519Legacy',
    userIDs: [userID],
    format: 'object',
    ...(date ? { date } : {}),
    config: MESSAGE_CONFIG,
  });
  const unlocked = wrapUnlocked(privateKey);
  return {
    privateKey: unlocked,
    publicKey: publicKeyOf(unlocked),
    fingerprint: unlocked.fingerprint,
  };
}

/** base64url SHA-256 of a key's binary public packets (every subkey and binding), whatever armor it came in. */
export async function publicPacketsHash(key: openpgp.Key): Promise<string> {
  const bytes = key.toPublic().write();
  const digest = await globalThis.crypto.subtle.digest('SHA-256', bufferSource(bytes));
  return toBase64Url(new Uint8Array(digest));
}

/**
 * Whether two keys have the same public part packet for packet (primary, every subkey, user ID
 * and binding): a key with the same primary fingerprint but a subkey added, dropped or swapped
 * is another key (issue 10 class 9).
 */
export function samePublicKey(a: openpgp.Key, b: openpgp.Key): boolean {
  const x = a.toPublic().write();
  const y = b.toPublic().write();
  return x.length === y.length && x.every((byte, i) => byte === y[i]);
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

/** Curves openpgp.js rejects by default (config.rejectCurves) or that we don't want to vouch for. */
const REJECTED_CURVES = new Set(['secp256k1']);

function isWeak(info: openpgp.AlgorithmInfo): boolean {
  if (!ACCEPTED_ALGORITHMS.has(info.algorithm)) return true;
  if (info.curve !== undefined && REJECTED_CURVES.has(info.curve)) return true;
  return RSA_ALGORITHMS.has(info.algorithm) && (info.bits ?? 0) < MIN_RSA_BITS;
}

/** Key IDs (16 hex) of the keys of `key` that openpgp.js would accept for encryption at `now`. */
export async function usableEncryptionKeyIds(key: openpgp.Key, now: Date): Promise<string[]> {
  const ids: string[] = [];
  for (const k of [key, ...key.subkeys]) {
    // Signature-only algorithms can never encrypt: skip them instead of paying for a failed check.
    if (!ENCRYPTION_ALGORITHMS.has(k.getAlgorithmInfo().algorithm)) continue;
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
export async function readPublicKey(
  armored: string,
  opts: { now?: Date } = {},
): Promise<PublicKeyInfo> {
  if (typeof armored !== 'string')
    throw new CryptoError('invalid-key', 'public key must be an armored string');
  if (armored.includes('PRIVATE KEY BLOCK')) {
    throw new CryptoError('not-public-key', 'this is a private key; send only the public key');
  }
  const key = await parseKey(armored);
  return validatePublicKey(key, opts.now ?? new Date());
}

/** The checks of `readPublicKey` on an already parsed key; returns the usable encryption key IDs. */
export async function checkPublicKey(key: openpgp.Key, now: Date): Promise<string[]> {
  if (key.isPrivate())
    throw new CryptoError('not-public-key', 'this is a private key; send only the public key');
  if (key.keyPacket.version !== 4) {
    throw new CryptoError(
      'unsupported-key-version',
      `key version ${key.keyPacket.version} is not supported (v4 only)`,
    );
  }
  for (const k of [key, ...key.subkeys]) {
    if (isWeak(k.getAlgorithmInfo())) {
      const info = k.getAlgorithmInfo();
      throw new CryptoError(
        'weak-key',
        `key algorithm ${info.algorithm}${info.bits ? ` (${info.bits} bits)` : ''} is too weak`,
      );
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
    if (/revoked/i.test(message))
      throw new CryptoError('key-revoked', 'the key has been revoked', { cause });
    if (/expired/i.test(message))
      throw new CryptoError('key-expired', 'the key has expired', { cause });
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
 * Validation cache. Checking a key (self-signatures, binding signatures, revocations) costs a few
 * milliseconds of signature verification per key, which dominated sealing to many recipients.
 * The result for the exact same armored text can only change with time (expiry), so entries are
 * reused for at most VALIDATION_TTL_MS, never past the earliest expiry among the key's parts,
 * and never for a `now` earlier than the check. Parsed key objects are only read afterwards.
 */
const VALIDATION_TTL_MS = 10 * 60 * 1000;
const VALIDATION_CACHE_MAX = 1000;
interface ValidatedKey {
  key: openpgp.PublicKey;
  encryptionKeyIds: string[];
  checkedAt: number;
  validUntil: number;
}
const validated = new Map<string, ValidatedKey>();

async function earliestExpiry(key: openpgp.Key): Promise<number> {
  let earliest = Infinity;
  const consider = (t: Date | number | null) => {
    if (t instanceof Date) earliest = Math.min(earliest, t.getTime());
  };
  consider(await key.getExpirationTime(undefined, READ_CONFIG).catch(() => null));
  for (const sub of key.subkeys)
    consider(await sub.getExpirationTime(undefined, READ_CONFIG).catch(() => null));
  return earliest;
}

/** Parses + validates one public key, through the validation cache. Throws the readPublicKey codes. */
export async function validatedPublicKey(
  armored: string,
  now: Date = new Date(),
): Promise<ValidatedKey> {
  if (typeof armored !== 'string')
    throw new CryptoError('invalid-key', 'public key must be an armored string');
  const t = now.getTime();
  const hit = validated.get(armored);
  if (hit && t >= hit.checkedAt && t - hit.checkedAt < VALIDATION_TTL_MS && t < hit.validUntil)
    return hit;
  if (armored.includes('PRIVATE KEY BLOCK'))
    throw new CryptoError('not-public-key', 'this is a private key; send only the public key');
  const key = await parseKey(armored);
  const encryptionKeyIds = await checkPublicKey(key, now);
  const entry: ValidatedKey = {
    key: key as openpgp.PublicKey,
    encryptionKeyIds,
    checkedAt: t,
    validUntil: Math.min(t + VALIDATION_TTL_MS, await earliestExpiry(key)),
  };
  validated.delete(armored);
  validated.set(armored, entry);
  if (validated.size > VALIDATION_CACHE_MAX) {
    const oldest = validated.keys().next();
    if (!oldest.done) validated.delete(oldest.value);
  }
  return entry;
}

/** The checks that need no signature verification: public, v4, acceptable algorithms. */
function checkKeyShape(key: openpgp.Key): void {
  if (key.isPrivate())
    throw new CryptoError('not-public-key', 'this is a private key; send only the public key');
  if (key.keyPacket.version !== 4) {
    throw new CryptoError(
      'unsupported-key-version',
      `key version ${key.keyPacket.version} is not supported (v4 only)`,
    );
  }
  for (const k of [key, ...key.subkeys]) {
    const info = k.getAlgorithmInfo();
    if (isWeak(info))
      throw new CryptoError(
        'weak-key',
        `key algorithm ${info.algorithm}${info.bits ? ` (${info.bits} bits)` : ''} is too weak`,
      );
  }
}

/**
 * Runs `encrypt` with the recipient keys. Keys already in the validation cache are used as they
 * are; the others get only the cheap shape checks here, because openpgp.js's encryption verifies
 * each key's self-signatures, revocation, expiry and subkey bindings itself (getEncryptionKey).
 * Checking them twice made cold sealing to 100 recipients ~1.4× slower than plain openpgp.js. If
 * the encryption fails, every key gets the full `readPublicKey` validation so the caller sees the
 * precise code (key-revoked, key-expired, no-encryption-subkey, ...).
 * @throws the `readPublicKey` codes; `invalid-argument` when the same key appears twice.
 */
export async function encryptToKeys<T>(
  armored: string[],
  encrypt: (keys: openpgp.PublicKey[]) => Promise<T>,
  now: Date = new Date(),
): Promise<T> {
  const keys = await Promise.all(
    armored.map(async (a) => {
      if (typeof a !== 'string')
        throw new CryptoError('invalid-key', 'public key must be an armored string');
      const hit = validated.get(a);
      const t = now.getTime();
      if (hit && t >= hit.checkedAt && t - hit.checkedAt < VALIDATION_TTL_MS && t < hit.validUntil)
        return hit.key;
      if (a.includes('PRIVATE KEY BLOCK'))
        throw new CryptoError('not-public-key', 'this is a private key; send only the public key');
      const key = await parsePublicKeyCached(a);
      checkKeyShape(key);
      return key as openpgp.PublicKey;
    }),
  );
  const seen = new Set<string>();
  for (const k of keys) {
    const fp = k.getFingerprint();
    if (seen.has(fp)) throw new CryptoError('invalid-argument', `recipient ${fp} is listed twice`);
    seen.add(fp);
  }
  try {
    return await encrypt(keys);
  } catch (error) {
    // Find the recipient key that is the problem and report it precisely.
    for (const a of armored) await validatedPublicKey(a, now);
    if (error instanceof CryptoError) throw error;
    throw new CryptoError('invalid-argument', 'encryption failed', { cause: error });
  }
}

/**
 * Key IDs (16 hex) of every key and subkey of `key`, computed once per key object: an unlocked
 * key opens many messages, and its key IDs never change (openpgp.js key objects are not mutated
 * by this package once unlocked).
 */
const keyIdCache = new WeakMap<openpgp.Key, ReadonlySet<string>>();
export function keyIdsOf(key: openpgp.Key): ReadonlySet<string> {
  let ids = keyIdCache.get(key);
  if (!ids) {
    ids = new Set(key.getKeys().map((k) => k.getKeyID().toHex()));
    keyIdCache.set(key, ids);
  }
  return ids;
}

/** The key ID of a PKESK addressed to no one in particular (every key may try it). */
export const WILDCARD_KEY_ID = '0000000000000000';

/**
 * True when a PKESK for `keyId` may be for the key with IDs `mine`: one of them, a wildcard,
 * or unreadable (undefined); openpgp.js would try the key on each of these.
 */
export function mayBeFor(keyId: string | undefined, mine: ReadonlySet<string>): boolean {
  return keyId === undefined || keyId === WILDCARD_KEY_ID || mine.has(keyId);
}

/** Parse cache for public keys used only for verification (author keys): parsing is not free. */
const parsedPublic = new Map<string, openpgp.Key>();

/** `parseKey` for public keys, memoised by exact text (private keys are never cached). */
export async function parsePublicKeyCached(armored: string): Promise<openpgp.Key> {
  const hit = parsedPublic.get(armored);
  if (hit) return hit;
  const key = await parseKey(armored);
  if (!key.isPrivate()) {
    parsedPublic.set(armored, key);
    if (parsedPublic.size > VALIDATION_CACHE_MAX) {
      const oldest = parsedPublic.keys().next();
      if (!oldest.done) parsedPublic.delete(oldest.value);
    }
  }
  return key;
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

/** Empties the key caches (benchmarks of the cold path; tests). */
export function clearKeyCaches(): void {
  validated.clear();
  parsedPublic.clear();
}
