import type { ErrorRequestHandler, RequestHandler } from 'express';
import type { Logger } from 'pino';
import type { ErrorBody } from '@medseal/contract';
import { AppError } from './errors';

/** 404 for any route nobody handled. */
export const notFound: RequestHandler = (_req, _res, next) => {
  next(new AppError({ status: 404, code: 'not-found', message: 'No such resource.' }));
};

/** The one place errors become `{error: {code, message, details?}}` (STYLE.md §11). */
export function errorHandler(logger: Logger): ErrorRequestHandler {
  return (err, _req, res, _next) => {
    const known = toAppError(err);
    if (known.status >= 500) logger.error({ err: describe(err), code: known.code }, 'request failed');
    if (res.headersSent) {
      res.destroy();
      return;
    }
    const body: ErrorBody = { error: { code: known.code, message: known.message } };
    if (known.details !== undefined) body.error.details = known.details;
    if (known.status === 429) {
      const retry = (known.details as { retryAfterSeconds?: number } | undefined)?.retryAfterSeconds;
      if (retry) res.setHeader('Retry-After', String(retry));
    }
    if (known.status === 503) res.setHeader('Retry-After', '5');
    res.status(known.status).json(body);
  };
}

/** Name and message only: driver errors can carry the command, which may hold ciphertext. */
function describe(err: unknown): { name?: string; message?: string; code?: unknown } {
  if (err instanceof Error) return { name: err.name, message: err.message.slice(0, 300), code: (err as { code?: unknown }).code };
  return { message: String(err).slice(0, 300) };
}

const DB_DOWN = new Set([
  'MongoServerSelectionError',
  'MongooseServerSelectionError',
  'MongoNetworkError',
  'MongoNetworkTimeoutError',
  'MongoNotConnectedError',
  'MongoTopologyClosedError',
  'PoolClearedError',
  'MongoPoolClearedError',
]);

/** True for errors that mean "the database is not reachable right now". */
export function isDatabaseUnavailable(err: unknown): boolean {
  let e: unknown = err;
  for (let i = 0; i < 4 && e instanceof Error; i++) {
    if (DB_DOWN.has(e.name)) return true;
    if (/buffering timed out|connection .* closed|ECONNREFUSED|socket has been ended|Client must be connected/i.test(e.message)) return true;
    e = e.cause;
  }
  return false;
}

/** Maps errors from body-parser and others (which carry `status`/`type`) to stable codes. */
function toAppError(err: unknown): AppError {
  if (err instanceof AppError) return err;
  const e = err as { status?: number; type?: string };
  if (e.type === 'entity.too.large') {
    return new AppError({ status: 413, code: 'body-too-large', message: 'The request body is too large.' });
  }
  if (e.type === 'entity.parse.failed') {
    return new AppError({ status: 400, code: 'malformed-json', message: 'The request body is not valid JSON.' });
  }
  if (e.type === 'charset.unsupported' || e.type === 'encoding.unsupported') {
    return new AppError({ status: 415, code: 'unsupported-content-type', message: 'The request body encoding is not supported.' });
  }
  if (isDatabaseUnavailable(err)) {
    return new AppError({ status: 503, code: 'database-unavailable', message: 'The database is not reachable; try again shortly.' });
  }
  if (typeof e.status === 'number' && e.status >= 400 && e.status < 500) {
    return new AppError({ status: e.status, code: 'bad-request', message: 'The request could not be read.' });
  }
  return new AppError({ status: 500, code: 'internal', message: 'Something went wrong on the server.' });
}
