// What a leaf of the key-transparency log says (DESIGN §14): one binding per leaf, stored and
// hashed as canonical JSON so the server, the clients and the auditor see the same bytes.
import { sha256 } from '@noble/hashes/sha2.js';
import { CryptoError } from '../errors';
import { canonicalJson, toHex, utf8 } from '../encoding';
import { parseKey } from '../keys';
import { normaliseEmail } from '../secrets';
import { isFingerprint, type Fingerprint } from '../types';
import { leafHash } from './merkle';

export const BINDING_VERSION = 1;

/** User id + email → the key (its fingerprint and the SHA-256 of its binary packets). */
export interface UserKeyBinding {
  v: typeof BINDING_VERSION;
  type: 'user-key';
  userId: string;
  email: string;
  fingerprint: Fingerprint;
  keySha256: string;
  /** When the log appended it (ms since the epoch): the date self-monitoring shows. */
  at: number;
}

/** Every kind of leaf. Team keys and membership statements join this union (issue 12). */
export type KtBinding = UserKeyBinding;

/** A leaf as the log serves it: its index and its exact text. */
export interface LoggedBinding {
  index: number;
  data: string;
}

const HEX_HASH = /^[0-9a-f]{64}$/;

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

/** The leaf text for a binding (canonical JSON; the email normalised as at login). */
export function encodeBinding(binding: KtBinding): string {
  return canonicalJson({ ...binding, email: normaliseEmail(binding.email) });
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
  const b = value as Partial<UserKeyBinding> | null;
  if (typeof b !== 'object' || b === null)
    throw new CryptoError('kt-malformed', 'a log leaf is not an object');
  if (b.v !== BINDING_VERSION)
    throw new CryptoError('unsupported-format', `log leaf version ${String(b.v)} is not supported`);
  const ok =
    b.type === 'user-key' &&
    typeof b.userId === 'string' &&
    typeof b.email === 'string' &&
    isFingerprint(b.fingerprint) &&
    typeof b.keySha256 === 'string' &&
    HEX_HASH.test(b.keySha256) &&
    Number.isSafeInteger(b.at) &&
    Object.keys(b).length === 7;
  if (!ok) throw new CryptoError('kt-malformed', 'a log leaf is not a key binding');
  const binding = b as UserKeyBinding;
  if (encodeBinding(binding) !== data)
    throw new CryptoError('kt-malformed', 'a log leaf is not in canonical form');
  return binding;
}
