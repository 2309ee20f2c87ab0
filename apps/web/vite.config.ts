import { execFileSync } from 'node:child_process';
import { createRequire } from 'node:module';
import { fileURLToPath } from 'node:url';
import { defineConfig, type Plugin } from 'vite';
import react from '@vitejs/plugin-react';

/**
 * The key-transparency log's public key built into the app (DESIGN §14; docs/decisions.md):
 * VITE_MEDSEAL_KT_LOG_KEY when set (a server with its own MEDSEAL_KT_LOG_KEY), else the key of
 * the server on this machine, read from the server's settings and secrets exactly as its start
 * does (`kt:log-key`; in the embedded mode it makes the secrets file when there is none), so
 * `pnpm start` and the browser tests build and run with one key.
 */
function ktLogPublicKey(): string {
  const fromEnv = process.env.VITE_MEDSEAL_KT_LOG_KEY;
  if (fromEnv) return fromEnv;
  const tsx = createRequire(import.meta.url).resolve('tsx/cli');
  const serverDir = fileURLToPath(new URL('../server', import.meta.url));
  try {
    return execFileSync(process.execPath, [tsx, 'scripts/kt-log-key.ts'], {
      cwd: serverDir,
      encoding: 'utf8',
    }).trim();
  } catch (cause) {
    throw new Error(
      'The web app needs the key-transparency log key: set VITE_MEDSEAL_KT_LOG_KEY (`pnpm --filter @medseal/server kt:log-key` prints it where the server runs).',
      { cause },
    );
  }
}

const logKey = ktLogPublicKey();

/** `medseal-build.json` beside the app: the server refuses to serve a build for another log key. */
const buildInfo: Plugin = {
  name: 'medseal-build-info',
  generateBundle() {
    this.emitFile({
      type: 'asset',
      fileName: 'medseal-build.json',
      source: `${JSON.stringify({ ktLogPublicKey: logKey })}\n`,
    });
  },
};

// `pnpm dev`: Vite serves the app and forwards /api to the API server on 127.0.0.1:8080.
export default defineConfig({
  plugins: [react(), buildInfo],
  define: { 'import.meta.env.VITE_MEDSEAL_KT_LOG_KEY': JSON.stringify(logKey) },
  server: {
    host: '127.0.0.1',
    proxy: { '/api': 'http://127.0.0.1:8080' },
  },
  worker: { format: 'es' },
  build: { sourcemap: false, target: 'es2022' },
});
