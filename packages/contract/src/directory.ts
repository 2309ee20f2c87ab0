import { z } from 'zod';
import { emailSchema, fingerprintSchema, idSchema, roleSchema } from './common';
import { endpoint } from './endpoint';

/**
 * Exactly one of `email` (exact match: anyone, rate-limited) or `namePrefix`
 * (case-insensitive prefix, only among people I am connected to and doctors who are listed).
 */
export const directoryQuerySchema = z
  .object({
    email: emailSchema.optional(),
    namePrefix: z.string().trim().min(2).max(100).optional(),
  })
  .strict()
  .refine((q) => (q.email === undefined) !== (q.namePrefix === undefined), {
    message: 'give exactly one of email or namePrefix',
  });

/** A directory entry; `fingerprint` is computed by the server from `publicKey` (DESIGN §2). */
export const directoryUserSchema = z.object({
  id: idSchema,
  name: z.string(),
  role: roleSchema,
  publicKey: z.string(),
  fingerprint: fingerprintSchema,
  /**
   * Only in the answer to a lookup by email: the nonce her key leaf commits to that email under
   * (a version 2 leaf holds no email), so the client can check the log binds this person to the
   * address it asked for.
   */
  emailNonce: z.string().max(64).optional(),
});
export type DirectoryUser = z.infer<typeof directoryUserSchema>;
export const directoryResponseSchema = z.object({ users: z.array(directoryUserSchema) });
export type DirectoryResponse = z.infer<typeof directoryResponseSchema>;
export const userParamsSchema = z.object({ userId: idSchema }).strict();

export const directoryEndpoints = {
  findUsers: endpoint({
    method: 'get',
    path: '/users',
    summary:
      'Find users by exact email (rate-limited per session and address), or by name prefix among the people I share records or a team with and the doctors who chose to be listed (at most 20).',
    tag: 'directory',
    auth: 'session',
    query: directoryQuerySchema,
    response: directoryResponseSchema,
    status: 200,
    errors: ['rate-limited'],
  }),
  getUser: endpoint({
    method: 'get',
    path: '/users/:userId',
    summary: 'One user with public key and server-computed fingerprint.',
    tag: 'directory',
    auth: 'session',
    params: userParamsSchema,
    response: directoryUserSchema,
    status: 200,
    errors: ['user-not-found'],
  }),
} as const;
