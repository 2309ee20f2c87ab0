/**
 * An error the API reports to the client: `status` is the HTTP status, `code` a stable
 * machine-readable string. Anything else that reaches the error handler is a 500.
 */
export class AppError extends Error {
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
    this.name = 'AppError';
    this.status = options.status;
    this.code = options.code;
    this.details = options.details;
  }
}
