import { execFile } from 'node:child_process';
import { stat } from 'node:fs/promises';
import { join } from 'node:path';
import { promisify } from 'node:util';

const run = promisify(execFile);

// This package is CommonJS so that both tsx and jest's transform give it __dirname.
const devdbDir = join(__dirname, '..');
const sourceDir = join(devdbDir, 'ferretdb');
/** Where the built program is cached (git-ignored). */
export const ferretdbBinaryPath = join(devdbDir, '.bin', 'medseal-ferretdb');

/**
 * Builds the embedded FerretDB program if it is missing or older than its sources.
 * Needs Go; the first build downloads FerretDB's modules and takes about a minute.
 * @throws when `go build` fails (its output is in the error message).
 */
export async function ensureFerretdbBinary(log: (line: string) => void): Promise<string> {
  const [built, ...sources] = await Promise.all(
    [ferretdbBinaryPath, 'main.go', 'go.mod', 'go.sum'].map((file) =>
      stat(file === ferretdbBinaryPath ? file : join(sourceDir, file)).then(
        (s) => s.mtimeMs,
        () => undefined,
      ),
    ),
  );
  const newestSource = Math.max(...sources.map((t) => t ?? 0));
  if (built !== undefined && built >= newestSource) return ferretdbBinaryPath;

  log(`devdb: building FerretDB v1 (embedded, SQLite) into ${ferretdbBinaryPath} ...`);
  try {
    await run('go', ['build', '-o', ferretdbBinaryPath, '.'], {
      cwd: sourceDir,
      maxBuffer: 16 * 1024 * 1024,
    });
  } catch (error) {
    const stderr = (error as { stderr?: string }).stderr ?? '';
    throw new Error(`devdb: go build of FerretDB failed\n${stderr}`, { cause: error });
  }
  return ferretdbBinaryPath;
}

/** True when an executable named `name` is on PATH. */
export async function onPath(name: string): Promise<boolean> {
  try {
    await run('sh', ['-c', `command -v ${name}`]);
    return true;
  } catch {
    return false;
  }
}
