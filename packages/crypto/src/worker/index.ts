// Entry for the web app's worker file:
//   import { exposeCryptoWorker } from '@medseal/crypto/worker';
//   exposeCryptoWorker();
import { expose, type Endpoint } from 'comlink';
import { createCryptoWorkerApi } from './api';
import { installErrorTransfer } from './errors';

export { createCryptoWorkerApi } from './api';
export type { CryptoWorkerApi, KeyHandle, KeyRef, SecretHandle, SessionKeyHandle } from './api';
export { RemoteCryptoError } from './errors';

/** Exposes a fresh API object on `endpoint` (default: the worker's global scope). */
export function exposeCryptoWorker(endpoint?: Endpoint): void {
  installErrorTransfer();
  const api = createCryptoWorkerApi();
  if (endpoint) expose(api, endpoint);
  else expose(api);
}
