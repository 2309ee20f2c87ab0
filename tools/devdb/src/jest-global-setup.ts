import { startDevDb, type DevDb } from './index';

declare global {
  var __medsealDevDb: DevDb | undefined;
}

/**
 * Jest globalSetup: one database server for the whole run (never a mock). Each test file
 * then takes its own fresh database from `test-database.ts`.
 */
export default async function globalSetup(): Promise<void> {
  const db = await startDevDb({ mongodbUri: process.env.MONGODB_URI });
  globalThis.__medsealDevDb = db;
  process.env.MEDSEAL_TEST_MONGODB_URI = db.uri;
  process.env.MEDSEAL_TEST_DB_ENGINE = db.engine;
}
