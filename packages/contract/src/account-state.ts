import { z } from 'zod';
import { base64url } from './common';
import { endpoint } from './endpoint';

/**
 * Largest stored account state (binary OpenPGP). 1,000 pinned contacts and 10,000 records
 * tracked take ~0.5 MiB; the same bound is the client's (`MAX_ACCOUNT_STATE_BYTES` in crypto).
 */
export const MAX_ACCOUNT_STATE_BYTES = 8 * 1024 * 1024;

/**
 * The account state (DESIGN §12): one binary OpenPGP message per user, signed by and encrypted
 * to its owner; opaque to the server. `version` is the server's counter, which the client
 * compares with the version signed inside.
 */
export const accountStateResponseSchema = z.object({
  /** 0 when nothing is stored (then `blob` is null): the client treats that as a security error. */
  version: z.number().int().min(0),
  /** The message, base64url. */
  blob: base64url.nullable(),
});
export type AccountStateResponse = z.infer<typeof accountStateResponseSchema>;

export const putAccountStateQuerySchema = z
  .object({ baseVersion: z.coerce.number().int().min(0) })
  .strict();
export type PutAccountStateQuery = z.infer<typeof putAccountStateQuerySchema>;

export const putAccountStateResponseSchema = z.object({ version: z.number().int().min(1) });

export const accountStateEndpoints = {
  getAccountState: endpoint({
    method: 'get',
    path: '/account-state',
    summary: 'My account state (signed and encrypted to me; base64url).',
    tag: 'account-state',
    auth: 'session',
    response: accountStateResponseSchema,
    status: 200,
  }),
  putAccountState: endpoint({
    method: 'put',
    path: '/account-state',
    summary:
      'Replace my account state (application/octet-stream, a binary OpenPGP message to my key only); 409 when `baseVersion` is not the stored version.',
    tag: 'account-state',
    auth: 'session',
    query: putAccountStateQuerySchema,
    body: 'binary',
    response: putAccountStateResponseSchema,
    status: 200,
    errors: [
      'version-conflict',
      'not-a-message',
      'unencrypted-data',
      'no-integrity',
      'recipient-mismatch',
      'too-large',
      'unsupported-content-type',
    ],
  }),
} as const;
