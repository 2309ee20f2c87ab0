import { z } from 'zod';
import { armoredSchema } from './common';
import { endpoint } from './endpoint';

/** The pinned-contacts list, encrypted to and signed by its owner; opaque to the server. */
export const contactsBlobResponseSchema = z.object({
  /** 0 when nothing is stored yet (then `blob` is null). */
  version: z.number().int().min(0),
  blob: z.string().nullable(),
});
export type ContactsBlobResponse = z.infer<typeof contactsBlobResponseSchema>;
export const putContactsRequestSchema = z
  .object({ baseVersion: z.number().int().min(0), blob: armoredSchema(512 * 1024) })
  .strict();
export type PutContactsRequest = z.infer<typeof putContactsRequestSchema>;

export const contactsEndpoints = {
  getContacts: endpoint({
    method: 'get',
    path: '/contacts',
    summary: 'My encrypted pinned-contacts list.',
    tag: 'contacts',
    auth: 'session',
    response: contactsBlobResponseSchema,
    status: 200,
  }),
  putContacts: endpoint({
    method: 'put',
    path: '/contacts',
    summary: 'Replace my contacts list; 409 when `baseVersion` is not the stored version.',
    tag: 'contacts',
    auth: 'session',
    body: putContactsRequestSchema,
    response: contactsBlobResponseSchema,
    status: 200,
    errors: [
      'version-conflict',
      'not-armored',
      'not-a-message',
      'unencrypted-data',
      'no-integrity',
      'recipient-mismatch',
      'too-large',
    ],
  }),
  deleteContacts: endpoint({
    method: 'delete',
    path: '/contacts',
    summary:
      'Deletes my contacts list once the app has folded it into my account state (nothing stored is fine).',
    tag: 'contacts',
    auth: 'session',
    status: 204,
  }),
} as const;
