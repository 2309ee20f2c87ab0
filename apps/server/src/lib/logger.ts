import type { RequestHandler } from 'express';
import { pino, type Logger } from 'pino';

/**
 * Paths never written to logs: credentials, session tokens, key material and ciphertext
 * (Medseal's rule: logs hold no secrets, tokens or ciphertext). Ciphertext fields are named
 * where they occur (a request body, a record, a stored document), not as every `message`:
 * an error's message is what a 5xx log line is for.
 */
export const redactedPaths = [
  'req.headers.cookie',
  'req.headers.authorization',
  'res.headers["set-cookie"]',
  '*.loginSecret',
  '*.newLoginSecret',
  '*.encryptedPrivateKey',
  '*.recoveryEncryptedPrivateKey',
  'body.message',
  '*.body.message',
  'record.message',
  '*.record.message',
  'doc.message',
  '*.doc.message',
  '*.pkesk',
  '*.blob',
  '*.token',
];

export function createLogger(level: string, destination?: NodeJS.WritableStream): Logger {
  const options = { level, redact: { paths: redactedPaths, censor: '[redacted]' } };
  return destination ? pino(options, destination) : pino(options);
}

/**
 * One log line per request — method, path without the query (emails), status, time — built
 * only when `info` is on. Not pino-http: it makes a child logger with the
 * serialized request for every request even with logging off, about a third of the CPU of
 * a cached record GET (server bench).
 */
export function requestLog(logger: Logger): RequestHandler {
  return (req, res, next) => {
    if (!logger.isLevelEnabled('info')) return next();
    const start = performance.now();
    res.once('finish', () => {
      const ms = Math.round((performance.now() - start) * 10) / 10;
      logger.info(
        {
          req: { method: req.method, path: req.originalUrl.split('?')[0] },
          res: { statusCode: res.statusCode },
          responseTime: ms,
        },
        'request completed',
      );
    });
    next();
  };
}
