// The one place that creates the search worker with `import.meta.url` (jest cannot load it;
// tests put the same index on a MessageChannel instead).
import { workerSearch, type RecordSearch } from './client';

export function spawnRecordSearch(): RecordSearch {
  return workerSearch(() => {
    const worker = new Worker(new URL('./searchWorker.ts', import.meta.url), {
      type: 'module',
      name: 'medseal-search',
    });
    return { endpoint: worker, terminate: () => worker.terminate() };
  });
}
