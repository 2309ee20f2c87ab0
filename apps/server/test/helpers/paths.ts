import { join } from 'node:path';

/**
 * apps/server. Under jest (CommonJS) from this file's folder; under tsx (ESM, the benchmarks,
 * which have no `__dirname`) from the working directory, which `pnpm bench` sets to apps/server.
 */
export const serverDir =
  typeof __dirname === 'string' ? join(__dirname, '..', '..') : process.cwd();
