import { MessageChannel } from 'node:worker_threads';
import type { Endpoint } from 'comlink';
import { exposeCryptoWorker } from '@medseal/crypto/worker';
import { createCryptoClient, type CryptoClient } from '../src/crypto/client';

/**
 * The real crypto worker API (real openpgp.js and Argon2id) on a MessageChannel in the test
 * process: the same comlink boundary the app crosses, without a Worker (jsdom has none).
 */
export function inProcessCrypto(): { crypto: CryptoClient; close(): void } {
  const { port1, port2 } = new MessageChannel();
  exposeCryptoWorker(port1 as unknown as Endpoint);
  return {
    crypto: createCryptoClient(port2 as unknown as Endpoint),
    close: () => {
      port1.close();
      port2.close();
    },
  };
}
