import { z } from 'zod';
import { buildEnv } from './env';

/**
 * The app's settings, validated once (STYLE.md §6; read from env.ts). main.tsx passes them
 * down, so nothing that tests load touches `import.meta`.
 */
const schema = z.object({
  /** Where the API lives; same origin by default (cookies are SameSite=Strict). */
  apiBase: z.string().min(1),
  /** Sent as X-Medseal-Client so the server can tell an outdated client to reload. */
  clientVersion: z.string().min(1),
});
export type AppConfig = z.infer<typeof schema>;

export const config: AppConfig = schema.parse({
  apiBase: buildEnv.apiBase ?? '/api',
  clientVersion: buildEnv.clientVersion ?? '1.0.0',
});
