import { z } from 'zod';
import { idSchema } from './common';
import { endpoint } from './endpoint';

// Key transparency (DESIGN §14, docs/decisions.md "Key transparency"). The client checks every
// answer with @medseal/crypto; these schemas only fix the shapes.

const hashHex = z.string().regex(/^[0-9a-f]{64}$/, 'a SHA-256 hash, 64 lowercase hex');
const treeSize = z.coerce.number().int().min(0).max(Number.MAX_SAFE_INTEGER);
/** A proof: at most one hash per level of a 2^53-leaf tree, twice for consistency. */
const proofSchema = z.array(hashHex).max(2 * 64);

const headFields = {
  size: z.number().int().min(0),
  root: hashHex,
  timestamp: z.number().int().min(0),
  signature: z.string().regex(/^[A-Za-z0-9_-]{86}$/, 'an Ed25519 signature, base64url'),
};
/** v2 heads also sign the subject map's root; v1 heads are from before the map. */
export const signedTreeHeadSchema = z.discriminatedUnion('v', [
  z.object({ v: z.literal(1), ...headFields }),
  z.object({ v: z.literal(2), ...headFields, mapRoot: hashHex }),
]);
export type SignedTreeHeadBody = z.infer<typeof signedTreeHeadSchema>;

/** A subject map lookup proof: the path's siblings (root side first) and the entry ending it. */
export const mapProofSchema = z.object({
  entry: z
    .object({
      key: hashHex,
      value: z.object({
        count: z.number().int().min(1),
        lastIndex: z.number().int().min(0),
        chain: hashHex,
      }),
    })
    .nullable(),
  siblings: z.array(hashHex).max(256),
});

/** A leaf: its index and its exact text (canonical JSON of one binding). */
export const loggedBindingSchema = z.object({
  index: z.number().int().min(0),
  data: z.string().max(4096),
});

export const provenBindingSchema = z.object({ leaf: loggedBindingSchema, proof: proofSchema });
export type ProvenBindingBody = z.infer<typeof provenBindingSchema>;

/** A user's latest binding, with the map's proof that it is their latest. */
export const latestBindingSchema = provenBindingSchema.extend({ map: mapProofSchema });
export type LatestBindingBody = z.infer<typeof latestBindingSchema>;

export const consistencyQuerySchema = z.object({ from: treeSize, to: treeSize }).strict();
export const consistencyResponseSchema = z.object({ proof: proofSchema });

export const atSizeQuerySchema = z.object({ size: treeSize }).strict();
export const ktUserParamsSchema = z.object({ userId: idSchema }).strict();

export const ktTeamParamsSchema = z.object({ teamId: idSchema }).strict();

export const ktHistoryResponseSchema = z.object({
  size: z.number().int().min(0),
  bindings: z.array(provenBindingSchema),
  /** The subject's map entry (count and chain of its leaves), proven under the head of `size`. */
  map: mapProofSchema,
});

/** At most this many leaves per answer of `/kt/leaves`. */
export const KT_LEAVES_PAGE = 1000;
export const ktLeavesQuerySchema = z.object({ from: treeSize, to: treeSize }).strict();
export const ktLeavesResponseSchema = z.object({
  /** Leaves from..to-1: their RFC 9162 hash and their subject's map key, no content. */
  leaves: z.array(z.object({ index: z.number().int().min(0), hash: hashHex, key: hashHex })),
});
export type KtLeavesResponse = z.infer<typeof ktLeavesResponseSchema>;
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
    response: latestBindingSchema,
    status: 200,
    errors: ['kt-bad-size', 'kt-not-logged'],
  }),
  ktLeaves: endpoint({
    method: 'get',
    path: '/kt/leaves',
    summary: `Leaves from..to-1 (at most ${KT_LEAVES_PAGE}) as hashes with their subject's map key, for an auditor to recompute both roots of a head.`,
    tag: 'transparency',
    auth: 'public',
    query: ktLeavesQuerySchema,
    response: ktLeavesResponseSchema,
    status: 200,
    errors: ['kt-bad-size'],
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
  ktMemberships: endpoint({
    method: 'get',
    path: '/kt/memberships',
    summary:
      'Every team statement logged as naming the caller as a member, each with its inclusion proof (self-monitoring).',
    tag: 'transparency',
    auth: 'session',
    query: atSizeQuerySchema,
    response: ktHistoryResponseSchema,
    status: 200,
    errors: ['kt-bad-size'],
  }),
  ktTeamHistory: endpoint({
    method: 'get',
    path: '/kt/teams/:teamId/history',
    summary:
      "Every leaf logged for a team's signed statements, each with its inclusion proof in the tree of `size` leaves (team leaves hold no personal data).",
    tag: 'transparency',
    auth: 'public',
    params: ktTeamParamsSchema,
    query: atSizeQuerySchema,
    response: ktHistoryResponseSchema,
    status: 200,
    errors: ['kt-bad-size'],
  }),
} as const;
