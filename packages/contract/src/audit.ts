import { z } from 'zod';
import { idSchema, isoDate } from './common';
import { endpoint } from './endpoint';

/** `list`: the record was in a list the user was sent (its title decrypted there); `read`: opened. */
export const auditActionSchema = z.enum(['create', 'list', 'read', 'update', 'share', 'revoke', 'delete', 'attach', 'read-attachment', 'delete-attachment']);
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

export const auditTrailResponseSchema = z.object({
  events: z.array(auditEventSchema),
  verification: auditVerificationSchema,
});
export type AuditTrailResponse = z.infer<typeof auditTrailResponseSchema>;

export const auditEndpoints = {
  recordAudit: endpoint({
    method: 'get',
    path: '/audit/records/:recordId',
    summary: 'The access trail of one of my records (also after it was deleted), with the chain check.',
    tag: 'audit',
    auth: 'session',
    params: z.object({ recordId: idSchema }).strict(),
    response: auditTrailResponseSchema,
    status: 200,
    errors: ['record-not-found'],
  }),
} as const;
