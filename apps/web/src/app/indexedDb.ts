/**
 * The one IndexedDB helper of the app: a database with one object store, opened for each use
 * and closed after it (so a version change elsewhere never waits on us). Callers: the
 * account-state high-water marks (app/highWaterMarks.ts) and the tab's wrapping keys
 * (crypto/tabVault.ts).
 */
export function request<T>(req: IDBRequest<T>): Promise<T> {
  return new Promise((resolve, reject) => {
    req.onsuccess = () => resolve(req.result);
    req.onerror = () => reject(req.error ?? new Error('IndexedDB request failed'));
  });
}

/**
 * Runs `run` on the store `store` of database `db` (created at version 1 when missing) in one
 * transaction of `mode`: reads and writes inside it cannot interleave with another tab's.
 * @throws the IndexedDB error when the database cannot be opened (private mode) or a request fails.
 */
export async function withStore<T>(
  db: { name: string; store: string },
  mode: IDBTransactionMode,
  run: (store: IDBObjectStore) => Promise<T>,
): Promise<T> {
  const open = indexedDB.open(db.name, 1);
  open.onupgradeneeded = () => open.result.createObjectStore(db.store);
  const database = await request(open);
  try {
    return await run(database.transaction(db.store, mode).objectStore(db.store));
  } finally {
    database.close();
  }
}
