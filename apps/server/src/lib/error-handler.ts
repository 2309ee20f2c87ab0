import type { ErrorRequestHandler, RequestHandler } from 'express';
import type { Logger } from 'pino';
import type { ErrorBody } from '@medseal/contract';
import { isDatabaseUnavailable } from './db';
import { AppError } from './errors';

/** 404 for any route nobody handled. */
export const notFound: RequestHandler = (_req, _res, next) => {
  next(new AppError({ status: 404, code: 'not-found', message: 'No such resource.' }));
};

/** The one place errors become `{error: {code, message, details?}}` (STYLE.md §11). */
export function errorHandler(logger: Logger): ErrorRequestHandler {
  return (err, _req, res, _next) => {
    const known = toAppError(err);
    if (known.status >= 500)
      logger.error({ err: describeError(err), code: known.code }, 'request failed');
    if (res.headersSent) {
      res.destroy();
      return;
    }
    const body: ErrorBody = { error: { code: known.code, message: known.message } };
    if (known.details !== undefined) body.error.details = known.details;
    if (known.status === 429) {
      const retry = (known.details as { retryAfterSeconds?: number } | undefined)
        ?.retryAfterSeconds;
      if (retry) res.setHeader('Retry-After', String(retry));
    }
    if (known.status === 503) res.setHeader('Retry-After', '5');
    res.status(known.status).json(body);
  };
}

/** At most this many characters of a message or stack. */
const MAX_LOGGED = 4_000;

/**
 * Name, code, message and stack, and the same of its causes: what one needs to find a fault.
 * Nothing else of the error object: driver errors can carry the command or the documents
 * (`writeErrors[].op`), which hold ciphertext.
 */
export function describeError(err: unknown, depth = 0): Record<string, unknown> {
  if (!(err instanceof Error)) return { message: String(err).slice(0, MAX_LOGGED) };
  const code = (err as { code?: unknown }).code;
  return {
    name: err.name,
    ...(typeof code === 'string' || typeof code === 'number' ? { code } : {}),
    message: err.message.slice(0, MAX_LOGGED),
    ...(err.stack ? { stack: err.stack.slice(0, MAX_LOGGED) } : {}),
    ...(err.cause !== undefined && depth < 3 ? { cause: describeError(err.cause, depth + 1) } : {}),
  };
}

/** Maps errors from body-parser and others (which carry `status`/`type`) to stable codes. */
export function toAppError(err: unknown): AppError {
  if (err instanceof AppError) return err;
  const e = err as { status?: number; type?: string };
  if (e.type === 'entity.too.large') {
    return new AppError({
      status: 413,
      code: 'body-too-large',
      message: 'The request body is too large.',
    });
  }
  if (e.type === 'entity.parse.failed') {
    return new AppError({
      status: 400,
      code: 'malformed-json',
      message: 'The request body is not valid JSON.',
    });
  }
  if (e.type === 'charset.unsupported' || e.type === 'encoding.unsupported') {
    return new AppError({
      status: 415,
      code: 'unsupported-content-type',
      message: 'The request body encoding is not supported.',
    });
  }
  if (isDatabaseUnavailable(err)) {
    return new AppError({
      status: 503,
      code: 'database-unavailable',
      message: 'The database is not reachable; try again shortly.',
    });
  }
  if (typeof e.status === 'number' && e.status >= 400 && e.status < 500) {
    return new AppError({
      status: e.status,
      code: 'bad-request',
      message: 'The request could not be read.',
    });
  }
  return new AppError({
    status: 500,
    code: 'internal',
    message: 'Something went wrong on the server.',
  });
}
