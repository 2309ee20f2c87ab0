import { pino, type Logger } from 'pino';

/**
 * Paths never written to logs: credentials, session tokens, key material and ciphertext
 * (Medseal's rule: logs hold no secrets, tokens or ciphertext).
 */
export const redactedPaths = [
  'req.headers.cookie',
  'req.headers.authorization',
  'res.headers["set-cookie"]',
  '*.loginSecret',
  '*.newLoginSecret',
  '*.encryptedPrivateKey',
  '*.recoveryEncryptedPrivateKey',
  '*.message',
  '*.pkesk',
  '*.blob',
  '*.token',
];

export function createLogger(level: string, destination?: NodeJS.WritableStream): Logger {
  const options = { level, redact: { paths: redactedPaths, censor: '[redacted]' } };
  return destination ? pino(options, destination) : pino(options);
}
