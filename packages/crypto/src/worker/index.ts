// Entry for the web app's worker file:
//   import { exposeCryptoWorker } from '@medseal/crypto/worker';
//   exposeCryptoWorker(undefined, { ktLogPublicKey });
import { expose, type Endpoint } from 'comlink';
import { createCryptoWorkerApi, type CryptoWorkerOptions } from './api';
import { installErrorTransfer } from './errors';

export { createCryptoWorkerApi } from './api';
export type {
  CryptoWorkerApi,
  CryptoWorkerOptions,
  KeyHandle,
  KeyRef,
  SecretHandle,
  SessionKeyHandle,
  WorkerOpenRecordResult,
} from './api';
export { RemoteCryptoError } from './errors';

/** Exposes a fresh API object on `endpoint` (default: the worker's global scope). */
export function exposeCryptoWorker(endpoint?: Endpoint, options: CryptoWorkerOptions = {}): void {
  installErrorTransfer();
  const api = createCryptoWorkerApi(options);
  if (endpoint) expose(api, endpoint);
  else expose(api);
}
