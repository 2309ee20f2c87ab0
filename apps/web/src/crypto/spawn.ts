// The one place that creates the worker with `import.meta.url` (jest cannot load it; tests put
// the same API on a MessageChannel instead).
import { createCryptoClient, type CryptoClient } from './client';

export function spawnCryptoWorker(): CryptoClient {
  return createCryptoClient(
    new Worker(new URL('./worker.ts', import.meta.url), { type: 'module', name: 'medseal-crypto' }),
  );
}
