// Password secrets, auth protocol v1 (DESIGN §3):
//   masterKey   = Argon2id(password, salt, m, t, p, 32 bytes)
//   salt        = SHA-256("medseal/v1/salt" ‖ lowercase(email) ‖ saltSeed)[0..16)
//   loginSecret = HMAC-SHA256(masterKey, "medseal/v1/login-password")   -> sent to the server
//   keySecret   = HMAC-SHA256(masterKey, "medseal/v1/private-key")      -> never leaves the worker
import { argon2id } from 'hash-wasm';
import { CryptoError } from './errors';
import {
  bufferSource,
  concatBytes,
  fromBase64Url,
  randomBytes,
  toBase64Url,
  utf8,
} from './encoding';
import type { KdfParams } from './types';

/** The floor the client enforces whatever the server says (m ≥ 64 MiB, t ≥ 3, p ≥ 1). */
export const MIN_KDF: Readonly<KdfParams> = Object.freeze({
  algorithm: 'argon2id',
  memoryKiB: 65536,
  iterations: 3,
  parallelism: 1,
});
/** What registration uses today. */
export const DEFAULT_KDF: Readonly<KdfParams> = MIN_KDF;

/** Ceiling, so a malicious server cannot make the browser allocate or spin without bound. */
const MAX_KDF = { memoryKiB: 1024 * 1024, iterations: 64, parallelism: 16 } as const;

/**
 * Checks KDF parameters from the server.
 * @throws CryptoError `invalid-kdf` (wrong shape, unknown algorithm, above the ceiling),
 * `kdf-too-weak` (below MIN_KDF).
 */
export function checkKdf(kdf: unknown): KdfParams {
  if (typeof kdf !== 'object' || kdf === null)
    throw new CryptoError('invalid-kdf', 'KDF parameters missing');
  const k = kdf as Record<string, unknown>;
  if (k.algorithm !== 'argon2id')
    throw new CryptoError(
      'invalid-kdf',
      `KDF algorithm ${String(k.algorithm)} is not supported (argon2id only)`,
    );
  for (const f of ['memoryKiB', 'iterations', 'parallelism'] as const) {
    if (!Number.isSafeInteger(k[f]))
      throw new CryptoError('invalid-kdf', `KDF ${f} must be an integer`);
  }
  const params = {
    algorithm: 'argon2id',
    memoryKiB: k.memoryKiB,
    iterations: k.iterations,
    parallelism: k.parallelism,
  } as KdfParams;
  if (
    params.memoryKiB < MIN_KDF.memoryKiB ||
    params.iterations < MIN_KDF.iterations ||
    params.parallelism < MIN_KDF.parallelism
  ) {
    throw new CryptoError(
      'kdf-too-weak',
      `KDF parameters below the minimum (m=${params.memoryKiB} KiB, t=${params.iterations}, p=${params.parallelism}; need m≥${MIN_KDF.memoryKiB}, t≥${MIN_KDF.iterations})`,
      { details: { kdf: params, min: MIN_KDF } },
    );
  }
  if (
    params.memoryKiB > MAX_KDF.memoryKiB ||
    params.iterations > MAX_KDF.iterations ||
    params.parallelism > MAX_KDF.parallelism
  ) {
    throw new CryptoError('invalid-kdf', 'KDF parameters above the supported maximum', {
      details: { kdf: params, max: MAX_KDF },
    });
  }
  return params;
}

/** 32 random bytes, base64url (43 characters): made once at registration, stored by the server. */
export function createSaltSeed(): string {
  return toBase64Url(randomBytes(32));
}

async function sha256(data: Uint8Array): Promise<Uint8Array> {
  return new Uint8Array(await globalThis.crypto.subtle.digest('SHA-256', bufferSource(data)));
}

export async function hmacSha256(key: Uint8Array, message: Uint8Array): Promise<Uint8Array> {
  const k = await globalThis.crypto.subtle.importKey(
    'raw',
    bufferSource(key),
    { name: 'HMAC', hash: 'SHA-256' },
    false,
    ['sign'],
  );
  return new Uint8Array(await globalThis.crypto.subtle.sign('HMAC', k, bufferSource(message)));
}

/** Emails are compared case-insensitively everywhere; the salt uses the trimmed lower-case form. */
export function normaliseEmail(email: string): string {
  return email.trim().toLowerCase();
}

export type KdfProgress =
  | { stage: 'argon2id'; fraction: 0 }
  | { stage: 'argon2id'; fraction: 1 }
  | { stage: 'hmac'; fraction: 1 };

export interface DeriveSecretsOptions {
  password: string;
  email: string;
  /** base64url of 32 bytes. */
  saltSeed: string;
  kdf: KdfParams;
  /**
   * Called at the start and end of the Argon2id run and after the HMAC split. hash-wasm runs
   * Argon2id as one WASM call, so there are no intermediate steps to report; the UI shows an
   * indeterminate bar between 0 and 1.
   */
  onProgress?: (progress: KdfProgress) => void;
}

/**
 * Derives the login secret (base64url, sent to the server) and the key secret (bytes, unlocks the
 * private key; never leaves the worker) from the password. The password is NFC-normalised so the
 * same password typed on different systems gives the same secrets.
 * @throws CryptoError `kdf-too-weak`, `invalid-kdf`, `invalid-argument`.
 */
export async function deriveSecrets(
  opts: DeriveSecretsOptions,
): Promise<{ loginSecret: string; keySecret: Uint8Array }> {
  const kdf = checkKdf(opts.kdf);
  if (typeof opts.password !== 'string' || opts.password.length === 0) {
    throw new CryptoError('invalid-argument', 'password must not be empty');
  }
  if (typeof opts.email !== 'string' || !opts.email.includes('@'))
    throw new CryptoError('invalid-argument', 'email must be an address');
  const seed = fromBase64Url(opts.saltSeed);
  if (!seed || seed.length !== 32)
    throw new CryptoError('invalid-argument', 'saltSeed must be 32 bytes, base64url');
  const salt = (
    await sha256(concatBytes(utf8('medseal/v1/salt'), utf8(normaliseEmail(opts.email)), seed))
  ).subarray(0, 16);
  opts.onProgress?.({ stage: 'argon2id', fraction: 0 });
  const masterKey = await argon2id({
    password: utf8(opts.password.normalize('NFC')),
    salt,
    memorySize: kdf.memoryKiB,
    iterations: kdf.iterations,
    parallelism: kdf.parallelism,
    hashLength: 32,
    outputType: 'binary',
  });
  opts.onProgress?.({ stage: 'argon2id', fraction: 1 });
  const [login, keySecret] = await Promise.all([
    hmacSha256(masterKey, utf8('medseal/v1/login-password')),
    hmacSha256(masterKey, utf8('medseal/v1/private-key')),
  ]);
  masterKey.fill(0);
  opts.onProgress?.({ stage: 'hmac', fraction: 1 });
  return { loginSecret: toBase64Url(login), keySecret };
}
