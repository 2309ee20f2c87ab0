import { randomBytes } from 'node:crypto';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { startDevDb } from '@medseal/devdb';
import { connectDb } from '../src/lib/db';

/**
 * A benchmark's own database: a fresh database on `MONGODB_URI`'s server, or on an embedded
 * one started for this run (and removed by `close`).
 */
export async function openBenchDatabase(prefix: string) {
  const external = process.env.MONGODB_URI;
  const dataDir = external ? undefined : await mkdtemp(join(tmpdir(), `medseal-${prefix}-`));
  const devDb = dataDir ? await startDevDb({ dataDir }) : undefined;
  const uri = external ?? devDb?.uri;
  if (!uri) throw new Error('no database for the benchmark');
  const connection = await connectDb(
    new URL(`${prefix}_${randomBytes(4).toString('hex')}`, uri).toString(),
  );
  return {
    connection,
    async close(): Promise<void> {
      await connection.close();
      await devDb?.stop();
      if (dataDir) await rm(dataDir, { recursive: true, force: true });
    },
  };
}
