// Proof of key possession for recovery (DESIGN §3): sign a server-issued challenge.
import { CryptoError } from './errors';
import { utf8 } from './encoding';
import type { UnlockedKey } from './keys';
import { signDetached, verifyDetached } from './signing';

const CHALLENGE_PREFIX = 'medseal/v1/challenge\n';

function challengeBytes(challenge: string): Uint8Array {
  if (typeof challenge !== 'string' || challenge.length < 16 || challenge.length > 1024) {
    throw new CryptoError('invalid-argument', 'a challenge is 16 to 1024 characters');
  }
  return utf8(CHALLENGE_PREFIX + challenge);
}

/** Detached armored signature over the challenge (domain-separated). Throws `invalid-argument`. */
export async function signChallenge(opts: {
  challenge: string;
  privateKey: UnlockedKey;
}): Promise<string> {
  return signDetached(challengeBytes(opts.challenge), opts.privateKey);
}

/**
 * Checks a challenge signature with the account's public key.
 * @throws CryptoError `bad-signature`, `invalid-argument`, `invalid-key`.
 */
export async function verifyChallengeSignature(opts: {
  challenge: string;
  signature: string;
  publicKey: string;
}): Promise<void> {
  if (typeof opts.signature !== 'string')
    throw new CryptoError('bad-signature', 'signature must be an armored string');
  await verifyDetached(challengeBytes(opts.challenge), opts.signature, opts.publicKey);
}
