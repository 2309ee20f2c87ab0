import { z } from 'zod';

/** GET /api/health: 200 when the database answers, 503 (same body, status "unavailable") when not. */
export const healthResponseSchema = z.object({
  status: z.enum(['ok', 'unavailable']),
  db: z.object({
    engine: z.enum(['mongodb', 'ferretdb', 'unknown']),
    ok: z.boolean(),
    message: z.string().optional(),
  }),
});
export type HealthResponse = z.infer<typeof healthResponseSchema>;
