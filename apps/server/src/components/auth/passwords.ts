import { hash, verify, type Algorithm } from '@node-rs/argon2';
import type { AppSettings } from '../../services';

const ARGON2ID = 2 as Algorithm;

/**
 * Argon2id of the login secret with its own random salt and the server pepper as Argon2's
 * `secret` input (DESIGN §3), so the stored hash is useless without the server config. The
 * secret is hashed as its base64url text, not decoded: @node-rs/argon2's verify only takes
 * valid UTF-8 as the password, and the text carries exactly the same 256 bits.
 */
export function hashLoginSecret(settings: AppSettings, loginSecret: string): Promise<string> {
  return hash(loginSecret, {
    algorithm: ARGON2ID,
    memoryCost: settings.argon2.memoryCost,
    timeCost: settings.argon2.timeCost,
    parallelism: settings.argon2.parallelism,
    secret: settings.secrets.loginPepper,
  });
}

/** True when `loginSecret` matches the stored hash; never throws (a malformed hash is a mismatch). */
export async function verifyLoginSecret(
  settings: AppSettings,
  stored: string,
  loginSecret: string,
): Promise<boolean> {
  try {
    return await verify(stored, loginSecret, { secret: settings.secrets.loginPepper });
  } catch {
    // A malformed stored hash is a failed login, never a crash with details.
    return false;
  }
}

/**
 * A hash to verify against when the email is unknown, so an unknown account costs the same
 * Argon2id work as a known one (same timing class). Derived per settings object; it holds
 * nothing about any user.
 */
const dummyHashes = new WeakMap<AppSettings, Promise<string>>();
export function dummyHash(settings: AppSettings): Promise<string> {
  let h = dummyHashes.get(settings);
  if (!h) {
    h = hashLoginSecret(settings, Buffer.alloc(32).toString('base64url'));
    dummyHashes.set(settings, h);
  }
  return h;
}
