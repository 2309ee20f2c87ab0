/**
 * Every failed API call becomes an ApiError with the server's stable `code` (from the
 * contract's error body), or one of the client-side codes below when there was no such body.
 */
export const CLIENT_ERROR_CODES = ['network-error', 'bad-response', 'not-json'] as const;

export class ApiError extends Error {
  readonly status: number;
  readonly code: string;
  readonly details: unknown;

  constructor(options: { status: number; code: string; message: string; details?: unknown; cause?: unknown }) {
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

/** Words for people, by code; the server's message is the fallback. */
const FRIENDLY: Record<string, string> = {
  'invalid-credentials': 'That email and password do not match an account.',
  'email-taken': 'An account with this email already exists.',
  'rate-limited': 'Too many attempts. Please wait a minute and try again.',
  'network-error': 'The server could not be reached. Check your connection and try again.',
  'version-conflict': 'Someone changed this while you were editing. Reload to see the newest version.',
  'record-not-found': 'This record does not exist or is no longer shared with you.',
  unauthenticated: 'Your session has ended. Please log in again.',
};

/** A sentence to show for any error (never a stack or raw ciphertext). */
export function describeError(e: unknown): string {
  if (e instanceof ApiError) return FRIENDLY[e.code] ?? e.message;
  if (e instanceof Error && 'code' in e && typeof e.code === 'string') return `${e.message} (${e.code})`;
  if (e instanceof Error) return e.message;
  return 'Something went wrong.';
}
