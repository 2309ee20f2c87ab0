/**
 * Every failed API call becomes an ApiError with the server's stable `code` (from the
 * contract's error body), or one of the client-side codes below when there was no such body.
 */
export const CLIENT_ERROR_CODES = ['network-error', 'bad-response', 'not-json'] as const;

export class ApiError extends Error {
  readonly status: number;
  readonly code: string;
  readonly details: unknown;

  constructor(options: {
    status: number;
    code: string;
    message: string;
    details?: unknown;
    cause?: unknown;
  }) {
    super(options.message, { cause: options.cause });
    this.name = 'ApiError';
    this.status = options.status;
    this.code = options.code;
    this.details = options.details;
  }
}

export function isApiError(e: unknown, code?: string): e is ApiError {
  return e instanceof ApiError && (code === undefined || e.code === code);
}

/**
 * The server did not answer the question (unreachable, or a 5xx such as 503
 * `database-unavailable`): asking again may work, and the failure says nothing about the answer.
 */
export function isUnavailable(e: unknown): boolean {
  return isApiError(e) && (e.code === 'network-error' || e.status >= 500);
}

/** Words for people, by code; the server's message is the fallback. */
const FRIENDLY: Record<string, string> = {
  'invalid-credentials': 'That email and password do not match an account.',
  'email-taken': 'An account with this email already exists.',
  'rate-limited': 'Too many attempts. Please wait a minute and try again.',
  'network-error': 'The server could not be reached. Check your connection and try again.',
  'version-conflict':
    'Someone changed this while you were editing. Reload to see the newest version.',
  'record-not-found': 'This record does not exist or is no longer shared with you.',
  unauthenticated: 'Your session has ended. Please log in again.',
  'no-consent':
    'This patient has not let you write records for them (or stopped it). They can allow it when they share a record with you, or on their Contacts page.',
  // Sharing and revoking (the server's messages for these name packets and grants).
  'already-recipient': 'They can already read this record.',
  'too-many-readers':
    'This record already has as many readers as a record can have. Revoke someone first. Nothing was shared.',
  'too-many-teams':
    'This record is already shared with as many care teams as a record can be. Stop sharing with one first. Nothing was shared.',
  'user-not-found': 'That person does not use Medseal (any more).',
  'fingerprint-mismatch':
    'Their key changed while you were sharing. Find them again and compare numbers before you share.',
  'bad-grant':
    'Sharing was refused: the request did not check out (is this device’s clock right?). Nothing was shared.',
  'recipient-mismatch':
    'Sharing was refused: the record was not encrypted for the right people. Nothing was shared.',
  'not-a-message': 'This record could not be read as an encrypted record. Nothing was changed.',
  'not-a-recipient': 'They could not read this record anyway.',
  'cannot-revoke-owner': 'The owner of a record always keeps access to it.',
  // Care teams and consents (the server's messages for these name statements and envelopes).
  'key-envelope-not-found':
    'You do not have this team’s key yet. Ask one of its admins to add you again.',
  'statement-time':
    'This device’s clock is not right. Set it to the correct time and try again. Nothing was changed.',
  'consent-replayed':
    'This was changed on another of your devices meanwhile. Reload the page and try again.',
  'team-key-not-current':
    'The team’s key changed while you were sharing (someone left it). Find the team again and share once more. Nothing was shared.',
};

/** Words for people for the crypto worker's codes (errors without an API body). */
function describeCryptoError(code: string, details: Record<string, unknown>): string | undefined {
  if (code === 'bad-recovery-words') {
    if (details.reason === 'word-count') {
      return `Your recovery kit has 12 words; we found ${String(details.count)}. Paste the words as they are in the kit, or type them with spaces between.`;
    }
    if (details.reason === 'unknown-word')
      return `Word ${String(details.position)} is not one of the recovery words. Check its spelling in your kit.`;
    return 'These words do not make a recovery key: one of them is wrong or out of order. Check them against your kit.';
  }
  if (code === 'wrong-key-secret') return 'These recovery words are not the ones for this account.';
  if (code === 'key-commitment-mismatch') {
    return 'Sharing refused: the server sent a key for one of this record’s files that is not the key its signed record names (it may have been tampered with). Nothing was shared.';
  }
  if (code === 'own-key-mismatch')
    return 'Security warning: the key the server sent is not your registered key. It was not unlocked.';
  return undefined;
}

/**
 * A sentence to show for any error (never a stack, raw ciphertext or an internal code: codes
 * stay in the error for the program, the person reads words).
 */
export function describeError(e: unknown): string {
  if (e instanceof ApiError) return FRIENDLY[e.code] ?? e.message;
  if (e instanceof Error && 'code' in e && typeof e.code === 'string') {
    const details =
      'details' in e && typeof e.details === 'object' && e.details !== null
        ? (e.details as Record<string, unknown>)
        : {};
    return (
      describeCryptoError(e.code, details) ??
      'Something went wrong on this device. Please try again; if it keeps happening, reload the page.'
    );
  }
  if (e instanceof Error) return e.message;
  return 'Something went wrong.';
}
