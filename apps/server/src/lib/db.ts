import mongoose, { type Connection } from 'mongoose';

export type DbEngine = 'mongodb' | 'ferretdb' | 'unknown';

/**
 * Opens a Mongoose connection. It reconnects by itself when the database comes back, so
 * the server recovers from a database restart without being restarted.
 */
export async function connectDb(uri: string): Promise<Connection> {
  // No command buffering: while the database is away a request fails after the driver's
  // server-selection timeout (a 503), instead of queueing in memory. The connect timeout
  // also bounds the driver's health check of a database that accepts but does not answer
  // (the default is 30 s). The driver itself carries a patch (patches/, docs/decisions.md)
  // without which its health check could hang for good when the database went away.
  const connection = mongoose.createConnection(uri, { serverSelectionTimeoutMS: 3_000, connectTimeoutMS: 3_000, bufferCommands: false });
  await connection.asPromise();
  return connection;
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
