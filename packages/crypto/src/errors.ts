// Typed errors with a stable `code` and the underlying `cause` (STYLE.md §11).

export type KeyErrorCode =
  | 'invalid-key'
  | 'not-public-key'
  | 'not-private-key'
  | 'key-expired'
  | 'key-revoked'
  | 'no-encryption-subkey'
  | 'unsupported-key-version'
  | 'weak-key'
  | 'wrong-key-secret'
  | 'key-not-locked'
  | 'own-key-mismatch';

export type MessageCheckCode =
  | 'not-armored'
  | 'not-a-message'
  | 'unencrypted-data'
  | 'no-integrity'
  | 'recipient-mismatch'
  | 'too-large';

export type CryptoErrorCode =
  | KeyErrorCode
  | MessageCheckCode
  | 'bad-signature'
  | 'kdf-too-weak'
  | 'invalid-kdf'
  | 'invalid-argument'
  | 'bad-recovery-words'
  | 'invalid-fingerprint'
  | 'decryption-failed'
  | 'unknown-handle'
  | 'unsupported-format'
  | 'key-commitment-mismatch'
  | TeamErrorCode
  | KtErrorCode;

/** Key transparency (src/transparency): proofs, signed heads, bindings. */
export type KtErrorCode =
  | 'kt-malformed'
  | 'kt-bad-proof'
  | 'kt-inconsistent'
  | 'kt-bad-head-signature'
  | 'kt-head-older'
  | 'kt-binding-mismatch'
  | 'kt-team-fork'
  | 'kt-team-gap'
  | 'kt-no-map'
  | 'kt-map-mismatch';

/** Care teams (src/teams): statements, team keys, team grants. */
export type TeamErrorCode =
  | 'team-statement-malformed'
  | 'not-team-admin'
  | 'team-chain-broken'
  | 'team-rule-violated'
  | 'team-key-mismatch';

export interface CryptoErrorOptions {
  cause?: unknown;
  /** Non-secret structured detail (e.g. which key IDs did not match). */
  details?: Record<string, unknown>;
}

/** Every error this package throws on purpose. `code` is stable; `message` is for people. */
export class CryptoError extends Error {
  readonly code: CryptoErrorCode;
  readonly details?: Record<string, unknown>;

  constructor(code: CryptoErrorCode, message: string, options: CryptoErrorOptions = {}) {
    super(message, options.cause === undefined ? undefined : { cause: options.cause });
    this.name = 'CryptoError';
    this.code = code;
    if (options.details) this.details = options.details;
  }
}

/** Thrown by the server-side message checks (`checkEncryptedTo`, `inspectMessage`, ...). */
export class MessageCheckError extends CryptoError {
  declare readonly code: MessageCheckCode;

  constructor(code: MessageCheckCode, message: string, options: CryptoErrorOptions = {}) {
    super(code, message, options);
    this.name = 'MessageCheckError';
  }
}

export function isCryptoError(error: unknown, code?: CryptoErrorCode): error is CryptoError {
  return error instanceof CryptoError && (code === undefined || error.code === code);
}
