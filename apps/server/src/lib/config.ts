import { z } from 'zod';

/**
 * The server's settings, validated once at start. Nothing else reads `process.env`
 * (STYLE.md §6). Every variable is listed in the README's configuration table.
 */
const configSchema = z.object({
  NODE_ENV: z.enum(['development', 'production', 'test']).default('development'),
  HOST: z.string().default('127.0.0.1'),
  PORT: z.coerce.number().int().min(0).max(65535).default(8080),
  /** Any MongoDB (6+) or FerretDB; when unset, tools/devdb starts an embedded one. */
  MONGODB_URI: z.string().url().optional(),
  /** Folder for the embedded database and generated dev secrets; relative to apps/server. */
  MEDSEAL_DATA_DIR: z.string().default('../../.data'),
  /** Built web app to serve; when the folder is missing only the API is served. */
  MEDSEAL_WEB_DIST: z.string().optional(),
  LOG_LEVEL: z.enum(['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent']).default('info'),
});

export type Config = z.infer<typeof configSchema>;

/** @throws a ZodError naming each bad variable. */
export function loadConfig(env: NodeJS.ProcessEnv = process.env): Config {
  return configSchema.parse(env);
}
