// Protecting the private key at rest (DESIGN §3, §11).
import * as openpgp from 'openpgp';
import { CryptoError } from './errors';
import { toBase64Url } from './encoding';
import { parseKey, parsePrivateKey, samePublicKey, wrapUnlocked, type UnlockedKey } from './keys';
import { MESSAGE_CONFIG } from './openpgp-config';
import type { ArmoredPrivateKey } from './types';

/**
 * S2K for keys locked with `keySecret` or the recovery secret: iterated+salted SHA-256 with the
 * LOWEST count the format allows (count byte 0 = 1024 bytes hashed). The secret is already a
 * 256-bit output of Argon2id (or 128 random bits + HMAC for the recovery key), so stretching it
 * again would add no security and would make unlock cost noticeably more than one Argon2id run
 * (issue 3). Argon2 S2K is not used because GnuPG 2.2 cannot read it.
 */
const NO_STRETCH_CONFIG: openpgp.Config = {
  ...MESSAGE_CONFIG,
  s2kType: openpgp.enums.s2k.iterated,
  s2kIterationCountByte: 0,
};

/**
 * For "export my data" (DESIGN §11): a passphrase a person types, so stretch it with the usual
 * iterated S2K (count byte 255 = 65,011,712 bytes, the format's maximum) that GnuPG, Sequoia and
 * RNP all import.
 */
const EXPORT_CONFIG: openpgp.Config = {
  ...MESSAGE_CONFIG,
  s2kType: openpgp.enums.s2k.iterated,
  s2kIterationCountByte: 255,
};

function secretToPassphrase(secret: Uint8Array): string {
  if (!(secret instanceof Uint8Array) || secret.length < 16) {
    throw new CryptoError('invalid-argument', 'a key secret is at least 16 random bytes');
  }
  return toBase64Url(secret);
}

/** Encrypts the private key under a 128/256-bit secret (keySecret or recovery secret). */
export async function lockPrivateKey(opts: {
  privateKey: UnlockedKey;
  secret: Uint8Array;
}): Promise<ArmoredPrivateKey> {
  const locked = await openpgp.encryptKey({
    privateKey: opts.privateKey.key,
    passphrase: secretToPassphrase(opts.secret),
    config: NO_STRETCH_CONFIG,
  });
  return locked.armor(MESSAGE_CONFIG) as ArmoredPrivateKey;
}

/**
 * Decrypts a locked private key.
 * @throws CryptoError `wrong-key-secret`, `invalid-key`, `not-private-key`, `invalid-argument`.
 */
export async function unlockPrivateKey(opts: {
  lockedKey: string;
  secret: Uint8Array;
}): Promise<UnlockedKey> {
  const passphrase = secretToPassphrase(opts.secret);
  const key = await parsePrivateKey(opts.lockedKey);
  if (key.isDecrypted())
    throw new CryptoError('invalid-key', 'the stored private key is not protected');
  try {
    return wrapUnlocked(
      await openpgp.decryptKey({ privateKey: key, passphrase, config: MESSAGE_CONFIG }),
    );
  } catch (cause) {
    throw new CryptoError('wrong-key-secret', 'the secret does not unlock this private key', {
      cause,
    });
  }
}

/**
 * An unlocked key is the user's only if its public part equals the registered public key packet
 * for packet (DESIGN §12 "Own key"): the server hands out both, and a key with the registered
 * primary but without (or with another) encryption subkey would otherwise be used as it came.
 * @throws CryptoError `own-key-mismatch`, `invalid-key` (an unreadable registered key).
 */
export async function checkOwnKey(key: UnlockedKey, registeredPublicKey: string): Promise<void> {
  if (!samePublicKey(key.key, await parseKey(registeredPublicKey))) {
    throw new CryptoError(
      'own-key-mismatch',
      'the unlocked private key is not the registered key (a subkey or binding differs)',
    );
  }
}

/**
 * The server's check before it stores a locked private key (DESIGN §3: a private key never
 * leaves the browser unprotected, and the server must not be able to use one): an OpenPGP
 * private key none of whose secret key packets is in the clear. Reads the packets' protection
 * only; needs no secret and unlocks nothing.
 * @throws CryptoError `invalid-key`, `not-private-key`, `key-not-locked`.
 */
export async function checkLockedPrivateKey(armored: string): Promise<void> {
  const key = await parsePrivateKey(armored);
  if (key.isDecrypted())
    throw new CryptoError(
      'key-not-locked',
      'the private key is not protected; lock it before it is sent',
    );
}

/**
 * The private key for the user's own download, protected under a passphrase they type, with
 * plain iterated S2K so `gpg --import` works. Throws `invalid-argument` for passphrases shorter
 * than 8 characters.
 */
export async function exportPrivateKey(opts: {
  privateKey: UnlockedKey;
  passphrase: string;
}): Promise<ArmoredPrivateKey> {
  if (typeof opts.passphrase !== 'string' || opts.passphrase.length < 8) {
    throw new CryptoError(
      'invalid-argument',
      'the export passphrase must be at least 8 characters',
    );
  }
  const locked = await openpgp.encryptKey({
    privateKey: opts.privateKey.key,
    passphrase: opts.passphrase,
    config: EXPORT_CONFIG,
  });
  return locked.armor(MESSAGE_CONFIG) as ArmoredPrivateKey;
}
