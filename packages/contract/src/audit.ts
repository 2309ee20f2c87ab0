import { z } from 'zod';
import { idSchema, isoDate } from './common';
import { endpoint } from './endpoint';

/** `list`: the record was in a list the user was sent (its title decrypted there); `read`: opened. */
export const auditActionSchema = z.enum([
  'create',
  'list',
  'read',
  'update',
  'share',
  'revoke',
  'delete',
  'attach',
  'read-attachment',
  'delete-attachment',
]);
export type AuditAction = z.infer<typeof auditActionSchema>;

const sha256Hex = z.string().regex(/^[0-9a-f]{64}$/);

/** One audit event; `hash` = SHA-256 over the canonical event with `prevHash` (DESIGN §8). */
export const auditEventSchema = z.object({
  recordId: idSchema,
  seq: z.number().int().min(1),
  actorId: idSchema,
  action: auditActionSchema,
  at: isoDate,
  prevHash: sha256Hex,
  hash: sha256Hex,
});
export type AuditEvent = z.infer<typeof auditEventSchema>;

export const auditVerificationSchema = z.discriminatedUnion('status', [
  z.object({ status: z.literal('intact') }),
  z.object({ status: z.literal('broken'), seq: z.number().int() }),
]);
export type AuditVerification = z.infer<typeof auditVerificationSchema>;

/** Upper bound of a signed checkpoint (an armored statement of ~600 characters). */
export const MAX_AUDIT_CHECKPOINT_CHARS = 8192;
const signedCheckpointSchema = z.string().min(1).max(MAX_AUDIT_CHECKPOINT_CHARS);

/**
 * `verification` is the server's own chain check, for operators and tests; clients recompute
 * the chain and check `checkpoint` (the last one the owner signed, or null) themselves
 * (DESIGN §12 "Audit").
 */
export const auditTrailResponseSchema = z.object({
  events: z.array(auditEventSchema),
  verification: auditVerificationSchema,
  checkpoint: signedCheckpointSchema.nullable(),
});
export type AuditTrailResponse = z.infer<typeof auditTrailResponseSchema>;

export const auditEndpoints = {
  recordAudit: endpoint({
    method: 'get',
    path: '/audit/records/:recordId',
    summary:
      'The access trail of one of my records (also after it was deleted), with the chain check.',
    tag: 'audit',
    auth: 'session',
    params: z.object({ recordId: idSchema }).strict(),
    response: auditTrailResponseSchema,
    status: 200,
    errors: ['record-not-found'],
  }),
  putAuditCheckpoint: endpoint({
    method: 'put',
    path: '/audit/records/:recordId/checkpoint',
    summary:
      'Stores the owner’s signed checkpoint of a record’s trail (length + head hash), kept unless a longer one replaces it.',
    tag: 'audit',
    auth: 'session',
    params: z.object({ recordId: idSchema }).strict(),
    body: z.object({ signedCheckpoint: signedCheckpointSchema }).strict(),
    status: 204,
    errors: ['record-not-found', 'bad-checkpoint', 'checkpoint-mismatch', 'checkpoint-older'],
  }),
} as const;
