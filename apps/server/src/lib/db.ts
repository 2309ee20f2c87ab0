import mongoose, { type Connection } from 'mongoose';

export type DbEngine = 'mongodb' | 'ferretdb' | 'unknown';

/**
 * Driver timeouts: a database that is gone or stalled (process stopped, disk hung) turns into
 * a 503 within ~2.5 s, never a hang. `timeoutMS` (the driver's client-side operation timeout)
 * bounds each operation as a whole, its server selection and retries included (a socket
 * timeout alone let a retried read take two, measured 5 s); no query on a hot path comes near
 * it (they are `_id` reads). A long operation passes its own (`LONG_OPERATION`). Server selection gives
 * up after 2 s when no server answers; the connect timeout also bounds the driver's health
 * check of a database that accepts but does not answer (default 30 s). No command buffering:
 * while the database is away a request fails instead of queueing in memory. The driver itself
 * carries a patch (patches/, docs/decisions.md) without which its health check could hang for
 * good when the database went away.
 */
export const DB_TIMEOUTS = {
  serverSelectionTimeoutMS: 2_000,
  connectTimeoutMS: 2_000,
  timeoutMS: 2_500,
} as const;

/** Options for an operation that may take long (a migration scan): no operation timeout. */
export const LONG_OPERATION = { timeoutMS: 0 } as const;

/** How long the first connect keeps trying (a database that starts with the server, or after it). */
const CONNECT_RETRY_MS = 30_000;

/**
 * Opens a Mongoose connection, trying again for up to 30 s while the database is not
 * reachable (it may still be starting, or be slow under load). Once open, it reconnects by
 * itself when the database comes back, so the server survives a database restart.
 * @throws the last connect error after 30 s, or at once for any other error (bad URI, auth).
 */
export async function connectDb(
  uri: string,
  options: { retryForMs?: number } = {},
): Promise<Connection> {
  const deadline = Date.now() + (options.retryForMs ?? CONNECT_RETRY_MS);
  for (;;) {
    const connection = mongoose.createConnection(uri, { ...DB_TIMEOUTS, bufferCommands: false });
    try {
      await connection.asPromise();
      return connection;
    } catch (error) {
      await connection.close().catch(() => undefined);
      if (!isDatabaseUnavailable(error) || Date.now() >= deadline) throw error;
      await new Promise((resolve) => setTimeout(resolve, 250));
    }
  }
}

const DB_DOWN = new Set([
  'MongoServerSelectionError',
  'MongooseServerSelectionError',
  'MongoNetworkError',
  'MongoNetworkTimeoutError',
  'MongoNotConnectedError',
  'MongoTopologyClosedError',
  'PoolClearedError',
  'MongoPoolClearedError',
  'MongoOperationTimeoutError',
]);

/**
 * Server error codes for "not available right now" (the driver's retryable-read codes): host
 * unreachable or not found, network timeout, shutdown in progress, stepped down, socket error,
 * not primary, interrupted at shutdown or by a state change, time limit exceeded, plus
 * MaxTimeMSExpired (an operation the server gave up on within the operation timeout).
 */
const DB_DOWN_CODES = new Set([
  6, 7, 50, 89, 91, 134, 189, 262, 9001, 10107, 11600, 11602, 13435, 13436,
]);

/**
 * True for errors that mean "the database is not reachable right now", also as the cause of
 * another error or inside a bulk write error: the driver's MongoBulkWriteError for an ordered
 * insertMany that lost its connection keeps the network error as `errorResponse` (a reset
 * connection mid group commit answered 500 `internal` before this was looked at; issue 11).
 */
export function isDatabaseUnavailable(err: unknown): boolean {
  const seen = new Set<Error>();
  const pending: unknown[] = [err];
  while (pending.length > 0 && seen.size < 8) {
    const e = pending.pop();
    if (!(e instanceof Error) || seen.has(e)) continue;
    seen.add(e);
    if (DB_DOWN.has(e.name)) return true;
    const { code, errorResponse } = e as { code?: unknown; errorResponse?: unknown };
    if (typeof code === 'number' && DB_DOWN_CODES.has(code)) return true;
    if (
      /buffering timed out|timed out during server selection|connection .* closed|ECONNREFUSED|socket has been ended|Client must be connected/i.test(
        e.message,
      )
    )
      return true;
    pending.push(e.cause, errorResponse);
  }
  return false;
}

/**
 * A filter value for strings that start with `prefix`: an anchored, case-sensitive regex,
 * which MongoDB answers from the field's index as a range.
 */
export function startsWith(prefix: string): { $regex: string } {
  return { $regex: `^${prefix.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')}` };
}

/** True for a duplicate-key error (code 11000): a unique `_id` or index refused the write. */
export function isDuplicateKey(error: unknown): boolean {
  return (error as { code?: unknown } | null)?.code === 11000;
}

/** FerretDB answers `buildInfo` with a `ferretdbVersion` field; MongoDB does not. */
export async function detectEngine(connection: Connection): Promise<DbEngine> {
  const db = connection.db;
  if (!db) return 'unknown';
  const info = await db.admin().buildInfo();
  return 'ferretdbVersion' in info ? 'ferretdb' : 'mongodb';
}

/**
 * Pings the database, giving up after `timeoutMs` (the driver alone would wait for its
 * full server-selection timeout).
 */
export async function pingDb(connection: Connection, timeoutMs = 2_000): Promise<void> {
  const db = connection.db;
  if (!db) throw new Error('database connection is not open');
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new Error(`no answer within ${timeoutMs} ms`)), timeoutMs);
  });
  try {
    await Promise.race([db.command({ ping: 1 }), timeout]);
  } finally {
    clearTimeout(timer);
  }
}
