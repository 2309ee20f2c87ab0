// `pnpm devdb`: starts the dev database in ./.data/devdb and keeps it running until Ctrl-C.
// `pnpm devdb --build-only`: builds the embedded FerretDB program (used by .ci/run).
import { join } from 'node:path';
import { ensureFerretdbBinary, startDevDb } from './index';

const log = (line: string) => console.error(line);

async function main() {
  if (process.argv.includes('--build-only')) {
    console.log(await ensureFerretdbBinary(log));
    return;
  }
  const dataDir = join(process.env.INIT_CWD ?? process.cwd(), '.data', 'devdb');
  const db = await startDevDb({ dataDir, mongodbUri: process.env.MONGODB_URI, log });
  console.log(`devdb: ${db.engine} at ${db.uri} (data: ${db.dataDir ?? 'external'})`);
  const stop = async () => {
    await db.stop();
    process.exit(0);
  };
  process.once('SIGINT', stop);
  process.once('SIGTERM', stop);
}

main().catch((error: unknown) => {
  console.error(error);
  process.exit(1);
});
