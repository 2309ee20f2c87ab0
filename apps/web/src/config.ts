import { z } from 'zod';

/**
 * The only module that reads `import.meta.env` (STYLE.md §6). Values are fixed at build time;
 * main.tsx passes them down, so nothing that tests load touches `import.meta`.
 */
const schema = z.object({
  /** Where the API lives; same origin by default (cookies are SameSite=Strict). */
  apiBase: z.string().min(1),
  /** Sent as X-Medseal-Client so the server can tell an outdated client to reload. */
  clientVersion: z.string().min(1),
});
export type AppConfig = z.infer<typeof schema>;

export const config: AppConfig = schema.parse({
  apiBase: import.meta.env.VITE_MEDSEAL_API_BASE ?? '/api',
  clientVersion: import.meta.env.VITE_MEDSEAL_CLIENT_VERSION ?? '1.0.0',
});
