// Entry for the UI thread (no openpgp here: only comlink and types):
//   import { wrapCryptoWorker } from '@medseal/crypto/worker-client';
//   const crypto = wrapCryptoWorker(new Worker(new URL('./crypto.worker.ts', import.meta.url), { type: 'module' }));
//   const { loginSecret, secretHandle } = await crypto.deriveSecrets(opts, proxy(onProgress));
import { proxy, transfer, wrap, type Endpoint, type Remote } from 'comlink';
import type { CryptoWorkerApi } from './api';
import { installErrorTransfer } from './errors';

export type {
  CryptoWorkerApi,
  KeyHandle,
  KeyRef,
  SecretHandle,
  SessionKeyHandle,
  WorkerOpenRecordResult,
} from './api';
export { RemoteCryptoError } from './errors';
/** `proxy(fn)` wraps progress callbacks for the worker; `transfer(value, [buffer])` moves large inputs. */
export { proxy, transfer };

/** Comlink client for the crypto worker; thrown errors keep their stable `code` (RemoteCryptoError). */
export function wrapCryptoWorker(endpoint: Endpoint): Remote<CryptoWorkerApi> {
  installErrorTransfer();
  return wrap<CryptoWorkerApi>(endpoint);
}
