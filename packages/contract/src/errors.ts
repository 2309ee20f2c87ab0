import { z } from 'zod';

/** Every error the API returns has this body; `code` is stable, `message` is for people. */
export const errorBodySchema = z.object({
  error: z.object({
    code: z.string(),
    message: z.string(),
    details: z.unknown().optional(),
  }),
});
export type ErrorBody = z.infer<typeof errorBodySchema>;

/**
 * Stable codes of the server's hardening checks (issue 15) that any operation may answer
 * with, besides the codes its endpoint lists.
 */
export const securityErrorCodes = {
  /** 415: a request body with a Content-Encoding (gzip, ...): bodies are never inflated. */
  unsupportedContentEncoding: 'unsupported-content-encoding',
  /** 429: too many uploads in flight from this session or address. */
  tooManyUploads: 'too-many-uploads',
  /** 421: the Host header names a host this server does not answer (DNS rebinding). */
  hostNotAllowed: 'host-not-allowed',
} as const;
export type SecurityErrorCode = (typeof securityErrorCodes)[keyof typeof securityErrorCodes];
