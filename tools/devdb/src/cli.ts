// `pnpm devdb`: starts the dev database in ./.data/devdb and keeps it running until Ctrl-C.
// `pnpm devdb --build-only [--bin-dir <folder>]`: builds the embedded FerretDB program.
// `--prepare`: makes ready what the tests' database will need (this package's `build` task,
// which the test command runs before any package's tests).
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { ensureFerretdbBinary, prepareDevDb, startDevDb } from './index';

const log = (line: string) => console.error(line);

async function main() {
  const { values } = parseArgs({
    options: {
      'build-only': { type: 'boolean' },
      'bin-dir': { type: 'string' },
      prepare: { type: 'boolean' },
    },
  });
  if (values['build-only']) {
    console.log(await ensureFerretdbBinary({ log, binDir: values['bin-dir'] }));
    return;
  }
  if (values.prepare) {
    console.log(
      `devdb: the tests' database will be ${await prepareDevDb({ mongodbUri: process.env.MONGODB_URI, log })}`,
    );
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
