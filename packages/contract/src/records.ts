import { z } from 'zod';
import {
  armoredSchema,
  fingerprintSchema,
  idSchema,
  isoDate,
  MAX_RECORD_MESSAGE_CHARS,
  pageQuerySchema,
} from './common';
import { endpoint } from './endpoint';

export const recipientSchema = z
  .object({ userId: idSchema, fingerprint: fingerprintSchema })
  .strict();
export type Recipient = z.infer<typeof recipientSchema>;

/**
 * A care team a record version is encrypted to (DESIGN §13): one PKESK for the team key whose
 * fingerprint this is, which must be the team's current key when the version is written.
 */
export const teamRecipientSchema = z
  .object({ teamId: idSchema, fingerprint: fingerprintSchema })
  .strict();
export type TeamRecipient = z.infer<typeof teamRecipientSchema>;
/** A team on a stored record: its key generation is what a re-key after a rotation looks at. */
export const recordTeamSchema = teamRecipientSchema.extend({ gen: z.number().int().min(1) });
export type RecordTeam = z.infer<typeof recordTeamSchema>;
/** The most people a record version is encrypted to (creates, updates and shares alike). */
export const MAX_RECORD_READERS = 64;
/** The most care teams a record version is encrypted to (creates, updates and shares alike). */
export const MAX_RECORD_TEAMS = 16;
const teamRecipients = z.array(teamRecipientSchema).max(MAX_RECORD_TEAMS).optional();

const recordMessage = armoredSchema(MAX_RECORD_MESSAGE_CHARS);

/** The message check codes from @medseal/crypto's checkEncryptedTo, surfaced as 400s. */
export const messageCheckCodes = [
  'not-armored',
  'not-a-message',
  'unencrypted-data',
  'no-integrity',
  'recipient-mismatch',
  'too-large',
] as const;

export const createRecordRequestSchema = z
  .object({
    /** Made by the client (128 random bits), because the signed envelope names it. */
    recordId: idSchema,
    ownerId: idSchema,
    recipients: z.array(recipientSchema).min(1).max(MAX_RECORD_READERS),
    /** Teams the author is a member of, encrypted to with their current key. */
    teams: teamRecipients,
    message: recordMessage,
  })
  .strict();
export type CreateRecordRequest = z.infer<typeof createRecordRequestSchema>;

export const updateRecordRequestSchema = z
  .object({
    baseVersion: z.number().int().min(1),
    recipients: z.array(recipientSchema).min(1).max(MAX_RECORD_READERS),
    /** Teams the record is shared with (a team left out stops reading), each with its current key. */
    teams: teamRecipients,
    message: recordMessage,
    /**
     * For a version that moves a team to its new key (a rotation its re-key has not reached yet):
     * per file the version keeps, the packet for the current key of each such team.
     */
    attachmentPackets: z.record(idSchema, z.array(z.string().max(2048)).max(16)).optional(),
  })
  .strict();
export type UpdateRecordRequest = z.infer<typeof updateRecordRequestSchema>;

/** A re-key carries no content (docs/care-teams.md "Re-keying"): its message is a short signed statement plus one packet per reader. */
export const MAX_REKEY_MESSAGE_CHARS = 32 * 1024;

/**
 * A team admin's re-key after the team's key changed: a new version whose readers and teams are
 * the base's (the server keeps them; only the teams' keys move to their current ones), whose
 * message is the admin's signed re-key statement, and the new team key's packet for every file.
 */
export const rekeyRecordRequestSchema = z
  .object({
    baseVersion: z.number().int().min(1),
    teamId: idSchema,
    message: recordMessage,
    /** One PKESK (base64url) for the team's current key per attachment of the record: it replaces the retired key's. */
    attachmentPackets: z.record(idSchema, z.string().max(2048)).optional(),
  })
  .strict();
export type RekeyRecordRequest = z.infer<typeof rekeyRecordRequestSchema>;

export const attachmentInfoSchema = z.object({
  id: idSchema,
  size: z.number().int(),
  createdAt: isoDate,
});
export type AttachmentInfo = z.infer<typeof attachmentInfoSchema>;

export const recordSchema = z.object({
  id: idSchema,
  ownerId: idSchema,
  authorId: idSchema,
  /** Who the stored message is encrypted to now (declared recipients plus active grantees). */
  recipients: z.array(recipientSchema),
  /** Care teams the stored message is encrypted to, each by one team key generation. */
  teams: z.array(recordTeamSchema),
  version: z.number().int().min(1),
  /** Set when the current version is a re-key: the team admin who signed it (the author stays the base's). */
  rekeyedBy: idSchema.optional(),
  createdAt: isoDate,
  updatedAt: isoDate,
  message: z.string(),
  attachments: z.array(attachmentInfoSchema),
});
export type RecordDto = z.infer<typeof recordSchema>;

export const recordListResponseSchema = z.object({
  records: z.array(recordSchema),
  /** Pass as `before` to get the next (older) page; absent on the last page. */
  nextCursor: z.string().optional(),
});
export type RecordListResponse = z.infer<typeof recordListResponseSchema>;

export const recordVersionSchema = z.object({
  version: z.number().int().min(1),
  authorId: idSchema,
  recipients: z.array(recipientSchema),
  teams: z.array(recordTeamSchema),
  /** Set on a re-key version: the team admin who signed it. */
  rekeyedBy: idSchema.optional(),
  createdAt: isoDate,
  size: z.number().int(),
});
export const recordHistoryResponseSchema = z.object({ versions: z.array(recordVersionSchema) });
export type RecordHistoryResponse = z.infer<typeof recordHistoryResponseSchema>;
export const recordVersionWithMessageSchema = recordVersionSchema.extend({ message: z.string() });

export const recordParamsSchema = z.object({ recordId: idSchema }).strict();
export const versionParamsSchema = z
  .object({ recordId: idSchema, version: z.coerce.number().int().min(1) })
  .strict();
export const attachmentParamsSchema = z
  .object({ recordId: idSchema, attachmentId: idSchema })
  .strict();

export const recordEndpoints = {
  createRecord: endpoint({
    method: 'post',
    path: '/records',
    summary:
      'Store a new record (armored OpenPGP message encrypted to exactly the declared recipients).',
    tag: 'records',
    auth: 'session',
    body: createRecordRequestSchema,
    response: recordSchema,
    status: 201,
    errors: [
      ...messageCheckCodes,
      'fingerprint-mismatch',
      'unknown-recipient',
      'owner-not-recipient',
      'author-not-recipient',
      'owner-not-patient',
      'no-consent',
      'record-exists',
      'team-not-found',
      'not-team-member',
      'team-key-not-current',
      'team-not-granted',
      'duplicate-team',
    ],
  }),
  listRecords: endpoint({
    method: 'get',
    path: '/records',
    summary: 'Records I own, wrote, or that are shared with me; newest first.',
    tag: 'records',
    auth: 'session',
    query: pageQuerySchema,
    response: recordListResponseSchema,
    status: 200,
  }),
  getRecord: endpoint({
    method: 'get',
    path: '/records/:recordId',
    summary: 'One record (current version).',
    tag: 'records',
    auth: 'session',
    params: recordParamsSchema,
    response: recordSchema,
    status: 200,
    errors: ['record-not-found'],
  }),
  updateRecord: endpoint({
    method: 'put',
    path: '/records/:recordId',
    summary:
      "Write a new version based on `baseVersion`; 409 when someone else wrote first. A version that moves a care team to its new key brings that key's packet per kept file (`attachmentPackets`).",
    tag: 'records',
    auth: 'session',
    params: recordParamsSchema,
    body: updateRecordRequestSchema,
    response: recordSchema,
    status: 200,
    errors: [
      ...messageCheckCodes,
      'version-conflict',
      'fingerprint-mismatch',
      'unknown-recipient',
      'owner-not-recipient',
      'author-not-recipient',
      'record-not-found',
      'forbidden',
      'no-consent',
      'team-not-found',
      'not-team-member',
      'team-key-not-current',
      'team-not-granted',
      'duplicate-team',
      'member-changes-readers',
      'attachment-packets-mismatch',
    ],
  }),
  rekeyRecord: endpoint({
    method: 'post',
    path: '/records/:recordId/rekey',
    summary:
      'A team admin re-keys the current version after the team key changed: same readers and content (a signed statement naming the base), new team key; 409 when the record changed.',
    tag: 'records',
    auth: 'session',
    params: recordParamsSchema,
    body: rekeyRecordRequestSchema,
    response: recordSchema,
    status: 200,
    errors: [
      ...messageCheckCodes,
      'version-conflict',
      'record-not-found',
      'forbidden',
      'team-not-found',
      'team-not-granted',
      'not-team-admin',
      'already-rekeyed',
      'other-team-behind',
      'rekey-carries-content',
      'rekey-attachments-mismatch',
      'fingerprint-mismatch',
    ],
  }),
  deleteRecord: endpoint({
    method: 'delete',
    path: '/records/:recordId',
    summary:
      'Delete the record permanently: every version, grant and attachment (the audit trail keeps that it happened).',
    tag: 'records',
    auth: 'session',
    params: recordParamsSchema,
    status: 204,
    errors: ['record-not-found', 'forbidden'],
  }),
  recordHistory: endpoint({
    method: 'get',
    path: '/records/:recordId/versions',
    summary: 'The versions of a record, oldest first.',
    tag: 'records',
    auth: 'session',
    params: recordParamsSchema,
    response: recordHistoryResponseSchema,
    status: 200,
    errors: ['record-not-found'],
  }),
  getRecordVersion: endpoint({
    method: 'get',
    path: '/records/:recordId/versions/:version',
    summary: 'One past version with its message as it was written.',
    tag: 'records',
    auth: 'session',
    params: versionParamsSchema,
    response: recordVersionWithMessageSchema,
    status: 200,
    errors: ['record-not-found', 'version-not-found'],
  }),
  uploadAttachment: endpoint({
    method: 'post',
    path: '/records/:recordId/attachments',
    summary:
      "Attach a binary OpenPGP message (application/octet-stream, at most 20 MiB) encrypted to exactly the record's readers and each of its care teams at the team's current key (a retired one: `team-key-not-current`).",
    tag: 'records',
    auth: 'session',
    params: recordParamsSchema,
    body: 'binary',
    response: attachmentInfoSchema,
    status: 201,
    errors: [
      ...messageCheckCodes,
      'record-not-found',
      'forbidden',
      'no-consent',
      'team-not-found',
      'team-key-not-current',
      'version-conflict',
      'too-many-uploads',
      'unsupported-content-encoding',
    ],
  }),
  downloadAttachment: endpoint({
    method: 'get',
    path: '/records/:recordId/attachments/:attachmentId',
    summary: 'Stream an attachment (application/octet-stream, Content-Disposition: attachment).',
    tag: 'records',
    auth: 'session',
    params: attachmentParamsSchema,
    response: 'binary',
    status: 200,
    errors: ['record-not-found', 'attachment-not-found'],
  }),
  deleteAttachment: endpoint({
    method: 'delete',
    path: '/records/:recordId/attachments/:attachmentId',
    summary: 'Remove an attachment.',
    tag: 'records',
    auth: 'session',
    params: attachmentParamsSchema,
    status: 204,
    errors: ['record-not-found', 'attachment-not-found', 'forbidden'],
  }),
} as const;
