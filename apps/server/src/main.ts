import { existsSync } from 'node:fs';
import { resolve } from 'node:path';
import { startDevDb, type DevDb } from '@medseal/devdb';
import { createApp } from './app';
import { loadConfig } from './lib/config';
import { connectDb } from './lib/db';
import { listen } from './lib/http-server';
import { createLogger } from './lib/logger';
import { logPublicKeyOf } from './lib/pgp';
import { checkWebBuildLogKey, loadServerSecrets } from './lib/secrets';
import { runMigrations } from './migrations';
import { settingsFromConfig } from './settings';

const config = loadConfig();
const logger = createLogger(config.LOG_LEVEL);
const dataDir = resolve(config.MEDSEAL_DATA_DIR);
const secrets = await loadServerSecrets(config, (secretsFile) =>
  logger.warn(
    { secretsFile },
    'moved secrets.json out of the data folder (back it up apart from the data)',
  ),
);

// Without MONGODB_URI, start the embedded dev database (tools/devdb) in the data folder.
let devDb: DevDb | undefined;
let mongoUri = config.MONGODB_URI;
if (!mongoUri) {
  devDb = await startDevDb({
    dataDir: resolve(dataDir, 'devdb'),
    log: (line) => logger.info(line),
  });
  logger.info({ engine: devDb.engine, dataDir: devDb.dataDir }, 'embedded database started');
  mongoUri = new URL('medseal', devDb.uri).toString();
}

const connection = await connectDb(mongoUri);
await runMigrations(connection, logger, { ktLogKey: secrets.ktLogKey });
const webDist = resolve(config.MEDSEAL_WEB_DIST ?? '../web/dist');
const ktLogPublicKey = logPublicKeyOf(secrets.ktLogKey);
logger.info({ ktLogPublicKey }, 'key-transparency log key');
if (existsSync(webDist)) await checkWebBuildLogKey(webDist, ktLogPublicKey);
const app = createApp({
  connection,
  logger,
  settings: settingsFromConfig(config, secrets),
  webDist: existsSync(webDist) ? webDist : undefined,
  repairAtStart: true,
});

const http = await listen(app, { host: config.HOST, port: config.PORT });
logger.info(`Medseal listening on http://${config.HOST}:${http.port}`);

// Graceful shutdown: stop taking connections, let in-flight requests finish, then close
// the database connection and the embedded database.
let stopping = false;
async function shutdown(signal: string) {
  if (stopping) return;
  stopping = true;
  logger.info({ signal }, 'shutting down');
  await http.shutdown();
  await connection.close();
  await devDb?.stop();
  process.exit(0);
}
process.on('SIGINT', () => void shutdown('SIGINT'));
process.on('SIGTERM', () => void shutdown('SIGTERM'));
