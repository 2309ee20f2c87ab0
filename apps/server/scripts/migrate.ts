// Runs every migration again, those recorded as done too: `pnpm --filter @medseal/server
// migrate`, once after the last process of an older release stopped (a rolling deploy; see
// runMigrations and the README's "Deploying a release"). Each migration is idempotent. Needs
// MONGODB_URI: the embedded database belongs to the one server process that runs it, which
// runs the migrations at its start.
import { loadConfig } from '../src/lib/config';
import { connectDb } from '../src/lib/db';
import { createLogger } from '../src/lib/logger';
import { loadServerSecrets } from '../src/lib/secrets';
import { runMigrations } from '../src/migrations';

const config = loadConfig();
if (!config.MONGODB_URI) {
  console.error(
    'MONGODB_URI is not set: with the embedded database, restarting the server runs the migrations.',
  );
  process.exit(2);
}
const { ktLogKey } = await loadServerSecrets(config, () => undefined);
const connection = await connectDb(config.MONGODB_URI);
await runMigrations(connection, createLogger('info'), { again: true, ktLogKey });
await connection.close();
