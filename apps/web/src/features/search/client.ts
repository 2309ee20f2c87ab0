import { wrap, type Endpoint, type Remote } from 'comlink';
import type { RecordSearchIndex, SearchDoc } from './searchIndex';

/** The search index as the app uses it: every call crosses to the search worker. */
export interface RecordSearch {
  put(docs: SearchDoc[]): Promise<void>;
  remove(ids: string[]): Promise<void>;
  /** Ids of matching records, best first. */
  search(query: string): Promise<string[]>;
  /** Ends the worker and the index in it (lock, logout); a later call starts an empty one. */
  close(): void;
}

export interface SearchEndpoint {
  endpoint: Endpoint;
  terminate(): void;
}

/**
 * A search index in a worker that starts on first use, so neither MiniSearch nor the worker
 * costs the first page anything (issue 14: load it lazily).
 */
export function workerSearch(start: () => SearchEndpoint): RecordSearch {
  let running: { worker: SearchEndpoint; index: Remote<RecordSearchIndex> } | null = null;
  const index = () => {
    if (!running) {
      const worker = start();
      running = { worker, index: wrap<RecordSearchIndex>(worker.endpoint) };
    }
    return running.index;
  };
  return {
    put: (docs) => index().put(docs),
    remove: (ids) => index().remove(ids),
    search: (query) => index().search(query),
    close() {
      running?.worker.terminate();
      running = null;
    },
  };
}
