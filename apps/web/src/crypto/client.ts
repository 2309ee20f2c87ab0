import type { Endpoint, Remote } from 'comlink';
import {
  wrapCryptoWorker,
  type CryptoWorkerApi,
  type KeyHandle,
  type KeyRef,
  type SecretHandle,
  type SessionKeyHandle,
  type WorkerOpenRecordResult,
} from '@medseal/crypto/worker-client';

export { proxy, RemoteCryptoError, transfer } from '@medseal/crypto/worker-client';
export type { KeyHandle, KeyRef, SecretHandle, SessionKeyHandle, WorkerOpenRecordResult };

/** The crypto worker as the UI sees it: every call is async and crosses the worker boundary. */
export type CryptoClient = Remote<CryptoWorkerApi>;

export function createCryptoClient(endpoint: Endpoint): CryptoClient {
  return wrapCryptoWorker(endpoint);
}
