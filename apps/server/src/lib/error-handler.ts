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
    if (known.status >= 500) logger.error({ err }, 'request failed');
    const body: ErrorBody = { error: { code: known.code, message: known.message } };
    if (known.details !== undefined) body.error.details = known.details;
    res.status(known.status).json(body);
  };
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
  if (typeof e.status === 'number' && e.status >= 400 && e.status < 500) {
    return new AppError({ status: e.status, code: 'bad-request', message: 'The request could not be read.' });
  }
  return new AppError({ status: 500, code: 'internal', message: 'Something went wrong on the server.' });
}
