import { MessageChannel } from 'node:worker_threads';
import { expose, type Endpoint } from 'comlink';
import { workerSearch, type RecordSearch } from '../src/features/search/client';
import { RecordSearchIndex } from '../src/features/search/searchIndex';

/**
 * The real search index on a MessageChannel in the test process: the same comlink boundary the
 * app crosses to its search worker, without a Worker (jsdom has none).
 */
export function inProcessSearch(): RecordSearch {
  return workerSearch(() => {
    const { port1, port2 } = new MessageChannel();
    expose(new RecordSearchIndex(), port1 as unknown as Endpoint);
    return {
      endpoint: port2 as unknown as Endpoint,
      terminate: () => {
        port1.close();
        port2.close();
      },
    };
  });
}
