import { z } from 'zod';
import {
  armoredSchema,
  base64url,
  fingerprintSchema,
  idSchema,
  isoDate,
  MAX_KEY_CHARS,
  roleSchema,
} from './common';
import { endpoint } from './endpoint';
import { errorBodySchema } from './errors';
import { attachmentParamsSchema } from './records';

const pkesk = base64url.min(16).max(4096);

/** What every share sends (to a person or a team): the signed grant and the key packets it splices in. */
const sharedPackets = {
  /** Armored signed grant, signed by the sharer (DESIGN §6; `createGrant` / `createTeamGrant`). */
  signedGrant: armoredSchema(MAX_KEY_CHARS),
  /** One PKESK packet (base64url) for the grantee's encryption subkey, or the team's current key. */
  pkesk,
  /** PKESKs for attachments that use another session key than the message; by attachment id. */
  attachmentPackets: z.record(idSchema, pkesk).optional(),
};

export const grantRequestSchema = z.object({ granteeUserId: idSchema, ...sharedPackets }).strict();
export type GrantRequest = z.infer<typeof grantRequestSchema>;

export const accessEntrySchema = z.object({
  userId: idSchema,
  name: z.string(),
  role: roleSchema,
  fingerprint: fingerprintSchema,
  /** owner / author / recipient named when the version was written / grantee of a grant. */
  via: z.enum(['owner', 'author', 'recipient', 'grant']),
  signedGrant: z.string().optional(),
  grantedBy: idSchema.optional(),
  grantedAt: isoDate.optional(),
});
export type AccessEntry = z.infer<typeof accessEntrySchema>;

/** Share with a care team (DESIGN §13): a team grant signed by the sharer plus one PKESK for the team's current key. */
export const teamGrantRequestSchema = z.object({ teamId: idSchema, ...sharedPackets }).strict();
export type TeamGrantRequest = z.infer<typeof teamGrantRequestSchema>;

/** A care team that reads the record through a grant, with the key generation the stored message is for. */
export const teamAccessEntrySchema = z.object({
  teamId: idSchema,
  name: z.string(),
  practiceName: z.string(),
  fingerprint: fingerprintSchema,
  gen: z.number().int().min(1),
  /** Absent for a team the author wrote the record for (the signed envelope names its key). */
  signedGrant: z.string().optional(),
  grantedBy: idSchema.optional(),
  grantedAt: isoDate.optional(),
});
export type TeamAccessEntry = z.infer<typeof teamAccessEntrySchema>;

export const accessListResponseSchema = z.object({
  entries: z.array(accessEntrySchema),
  teams: z.array(teamAccessEntrySchema),
});
export type AccessListResponse = z.infer<typeof accessListResponseSchema>;

export const grantParamsSchema = z.object({ recordId: idSchema, userId: idSchema }).strict();

export const attachmentPacketsResponseSchema = z.object({ packets: z.array(pkesk) });
export type AttachmentPacketsResponse = z.infer<typeof attachmentPacketsResponseSchema>;

/** At most this many grants in one batch; each is a few KiB, so a full batch stays far below the 1 MB body limit. */
export const MAX_GRANTS_PER_BATCH = 100;

/** One grant of a batch: the record it is for, and what a single share of it sends. */
export const batchGrantSchema = z
  .object({ recordId: idSchema, ...grantRequestSchema.shape })
  .strict();
export type BatchGrant = z.infer<typeof batchGrantSchema>;

export const grantBatchRequestSchema = z
  .object({ grants: z.array(batchGrantSchema).min(1).max(MAX_GRANTS_PER_BATCH) })
  .strict()
  // The same share twice in one batch would race with itself; a client never needs it.
  .refine(
    (b) =>
      new Set(b.grants.map((g) => `${g.recordId}/${g.granteeUserId}`)).size === b.grants.length,
    {
      message: 'Each record and grantee may appear once per batch.',
      path: ['grants'],
    },
  );
export type GrantBatchRequest = z.infer<typeof grantBatchRequestSchema>;

/** What became of one grant of a batch, in the order sent: the access entry, or the status and error a single share would have answered. */
export const batchGrantResultSchema = z.discriminatedUnion('status', [
  z.object({
    recordId: idSchema,
    granteeUserId: idSchema,
    status: z.literal('shared'),
    entry: accessEntrySchema,
  }),
  z.object({
    recordId: idSchema,
    granteeUserId: idSchema,
    status: z.literal('refused'),
    httpStatus: z.number().int(),
    error: errorBodySchema.shape.error,
  }),
]);
export type BatchGrantResult = z.infer<typeof batchGrantResultSchema>;

export const grantBatchResponseSchema = z.object({ results: z.array(batchGrantResultSchema) });
export type GrantBatchResponse = z.infer<typeof grantBatchResponseSchema>;

export const sharingEndpoints = {
  grantAccess: endpoint({
    method: 'post',
    path: '/records/:recordId/grants',
    summary:
      'Share: a signed grant plus one PKESK for the grantee, spliced into the stored message.',
    tag: 'sharing',
    auth: 'session',
    params: z.object({ recordId: idSchema }).strict(),
    body: grantRequestSchema,
    response: accessEntrySchema,
    status: 201,
    errors: [
      'record-not-found',
      'forbidden',
      'user-not-found',
      'bad-grant',
      'bad-signature',
      'recipient-mismatch',
      'not-a-message',
      'already-recipient',
      'too-many-readers',
    ],
  }),
  grantAccessBatch: endpoint({
    method: 'post',
    path: '/grants',
    summary:
      'Share several records at once: each grant is checked, authorized (share on its record) and stored exactly as by POST /records/:recordId/grants, on its own. ' +
      'One refused grant does not stop the others and leaves nothing of itself stored; its result carries the code that endpoint would answer with ' +
      '(record-not-found, forbidden, no-consent, user-not-found, bad-grant, bad-signature, fingerprint-mismatch, recipient-mismatch, not-a-message, already-recipient, too-many-readers, version-conflict, database-unavailable).',
    tag: 'sharing',
    auth: 'session',
    body: grantBatchRequestSchema,
    response: grantBatchResponseSchema,
    status: 200,
    errors: [],
  }),
  revokeAccess: endpoint({
    method: 'delete',
    path: '/records/:recordId/grants/:userId',
    summary:
      'Revoke: the user stops getting the record at once (the client then re-keys the next version).',
    tag: 'sharing',
    auth: 'session',
    params: grantParamsSchema,
    status: 204,
    errors: ['record-not-found', 'forbidden', 'not-a-recipient', 'cannot-revoke-owner'],
  }),
  listAccess: endpoint({
    method: 'get',
    path: '/records/:recordId/access',
    summary: 'Who can read the record now.',
    tag: 'sharing',
    auth: 'session',
    params: z.object({ recordId: idSchema }).strict(),
    response: accessListResponseSchema,
    status: 200,
    errors: ['record-not-found'],
  }),
  grantTeamAccess: endpoint({
    method: 'post',
    path: '/records/:recordId/teams',
    summary:
      "Share with a care team: a signed team grant plus one PKESK for the team's current key, spliced into the stored message.",
    tag: 'sharing',
    auth: 'session',
    params: z.object({ recordId: idSchema }).strict(),
    body: teamGrantRequestSchema,
    response: teamAccessEntrySchema,
    status: 201,
    errors: [
      'record-not-found',
      'forbidden',
      'team-not-found',
      'bad-grant',
      'bad-signature',
      'team-key-not-current',
      'not-a-message',
      'already-recipient',
      'too-many-teams',
    ],
  }),
  revokeTeamAccess: endpoint({
    method: 'delete',
    path: '/records/:recordId/teams/:teamId',
    summary:
      'Stop sharing with a team: its members stop getting the record at once (the client then re-keys the next version).',
    tag: 'sharing',
    auth: 'session',
    params: z.object({ recordId: idSchema, teamId: idSchema }).strict(),
    status: 204,
    errors: ['record-not-found', 'forbidden', 'not-a-recipient'],
  }),
  attachmentPackets: endpoint({
    method: 'get',
    path: '/records/:recordId/attachments/:attachmentId/packets',
    summary:
      "An attachment's session key packets (PKESK, base64url): what a sharer needs to make the grantee's packet, without downloading the file.",
    tag: 'sharing',
    auth: 'session',
    params: attachmentParamsSchema,
    response: attachmentPacketsResponseSchema,
    status: 200,
    errors: ['record-not-found', 'attachment-not-found', 'forbidden'],
  }),
} as const;
