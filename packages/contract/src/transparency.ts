import { z } from 'zod';
import { idSchema } from './common';
import { endpoint } from './endpoint';

// Key transparency (DESIGN §14, docs/decisions.md "Key transparency"). The client checks every
// answer with @medseal/crypto; these schemas only fix the shapes.

const hashHex = z.string().regex(/^[0-9a-f]{64}$/, 'a SHA-256 hash, 64 lowercase hex');
const treeSize = z.coerce.number().int().min(0).max(Number.MAX_SAFE_INTEGER);
/** A proof: at most one hash per level of a 2^53-leaf tree, twice for consistency. */
const proofSchema = z.array(hashHex).max(2 * 64);

export const signedTreeHeadSchema = z.object({
  v: z.literal(1),
  size: z.number().int().min(0),
  root: hashHex,
  timestamp: z.number().int().min(0),
  signature: z.string().regex(/^[A-Za-z0-9_-]{86}$/, 'an Ed25519 signature, base64url'),
});
export type SignedTreeHeadBody = z.infer<typeof signedTreeHeadSchema>;

/** A leaf: its index and its exact text (canonical JSON of one binding). */
export const loggedBindingSchema = z.object({
  index: z.number().int().min(0),
  data: z.string().max(4096),
});

export const provenBindingSchema = z.object({ leaf: loggedBindingSchema, proof: proofSchema });
export type ProvenBindingBody = z.infer<typeof provenBindingSchema>;

export const consistencyQuerySchema = z.object({ from: treeSize, to: treeSize }).strict();
export const consistencyResponseSchema = z.object({ proof: proofSchema });

export const atSizeQuerySchema = z.object({ size: treeSize }).strict();
export const ktUserParamsSchema = z.object({ userId: idSchema }).strict();

export const ktHistoryResponseSchema = z.object({
  size: z.number().int().min(0),
  bindings: z.array(provenBindingSchema),
});
export type KtHistoryResponse = z.infer<typeof ktHistoryResponseSchema>;

export const transparencyEndpoints = {
  ktHead: endpoint({
    method: 'get',
    path: '/kt/head',
    summary: 'The latest signed tree head of the key-transparency log.',
    tag: 'transparency',
    auth: 'public',
    response: signedTreeHeadSchema,
    status: 200,
    errors: ['kt-empty'],
  }),
  ktConsistency: endpoint({
    method: 'get',
    path: '/kt/consistency',
    summary: 'Consistency proof (RFC 9162 §2.1.4) between two signed tree sizes.',
    tag: 'transparency',
    auth: 'public',
    query: consistencyQuerySchema,
    response: consistencyResponseSchema,
    status: 200,
    errors: ['kt-bad-size'],
  }),
  ktUserBinding: endpoint({
    method: 'get',
    path: '/kt/users/:userId/binding',
    summary: "A user's current key binding with its inclusion proof in the tree of `size` leaves.",
    tag: 'transparency',
    auth: 'session',
    params: ktUserParamsSchema,
    query: atSizeQuerySchema,
    response: provenBindingSchema,
    status: 200,
    errors: ['kt-bad-size', 'kt-not-logged'],
  }),
  ktHistory: endpoint({
    method: 'get',
    path: '/kt/history',
    summary:
      "Every binding logged for the caller's account, each with its inclusion proof (self-monitoring).",
    tag: 'transparency',
    auth: 'session',
    query: atSizeQuerySchema,
    response: ktHistoryResponseSchema,
    status: 200,
    errors: ['kt-bad-size'],
  }),
} as const;
