import { execFile } from 'node:child_process';
import { cp, mkdir, readFile, rm, stat, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { promisify } from 'node:util';

const run = promisify(execFile);

// This package is CommonJS so that both tsx and jest's transform give it __dirname.
const devdbDir = join(__dirname, '..');
const sourceDir = join(devdbDir, 'ferretdb');
/** Where the built program is cached (git-ignored). */
export const ferretdbBinaryPath = join(devdbDir, '.bin', 'medseal-ferretdb');
/** The patched module copy and go.mod, there only while building. */
const buildDir = join(devdbDir, '.bin', 'build');

/**
 * One source fix applied to FerretDB v1.24.2 at build time, like the driver patch under
 * patches/. Its SQLite backend looks documents up by `_id` with the expression
 * `_ferretdb_sjson->'$._id'`, but builds the unique `_id` index on `_ferretdb_sjson->"_id"`;
 * SQLite uses an expression index only for the same expression, so every find, update and
 * delete by `_id` scanned the whole table (measured: 150 ms per lookup in 15,000 audit
 * events; with the index, a few microseconds). `->'_id'` reads the same field and matches the
 * index (EXPLAIN QUERY PLAN: SEARCH ... USING INDEX).
 */
const ID_INDEX_FIX = {
  file: 'internal/backends/sqlite/metadata/metadata.go',
  from: `IDColumn = DefaultColumn + "->'$._id'"`,
  to: `IDColumn = DefaultColumn + "->'_id'"`,
};

/**
 * Copies the FerretDB module out of Go's module cache (whose files Go refuses to overlay),
 * applies the fix, and writes a go.mod that replaces the module with the copy. Returns that
 * go.mod's path, for `go build -modfile`.
 */
async function patchedModFile(): Promise<string> {
  const { stdout } = await run('go', ['mod', 'download', '-json', 'github.com/FerretDB/FerretDB'], { cwd: sourceDir });
  const moduleDir = (JSON.parse(stdout) as { Dir: string }).Dir;
  const copy = join(buildDir, 'ferretdb-src');
  await rm(buildDir, { recursive: true, force: true });
  await mkdir(buildDir, { recursive: true });
  await cp(moduleDir, copy, { recursive: true });
  await run('chmod', ['-R', 'u+w', copy]);
  const target = join(copy, ID_INDEX_FIX.file);
  const original = await readFile(target, 'utf8');
  if (!original.includes(ID_INDEX_FIX.from)) throw new Error(`devdb: ${ID_INDEX_FIX.file} no longer holds the line the _id index fix replaces`);
  await writeFile(target, original.replace(ID_INDEX_FIX.from, ID_INDEX_FIX.to));
  const modFile = join(buildDir, 'go.mod');
  const goMod = await readFile(join(sourceDir, 'go.mod'), 'utf8');
  await writeFile(modFile, `${goMod}\nreplace github.com/FerretDB/FerretDB => ${copy}\n`);
  await cp(join(sourceDir, 'go.sum'), join(buildDir, 'go.sum'));
  return modFile;
}

/**
 * Builds the embedded FerretDB program if it is missing or older than its sources (this file
 * included: it holds the source fix).
 * Needs Go; the first build downloads FerretDB's modules and takes about a minute.
 * @throws when `go build` fails (its output is in the error message).
 */
export async function ensureFerretdbBinary(log: (line: string) => void): Promise<string> {
  const [built, ...sources] = await Promise.all(
    [ferretdbBinaryPath, __filename, 'main.go', 'go.mod', 'go.sum'].map((file) =>
      stat(file === ferretdbBinaryPath || file === __filename ? file : join(sourceDir, file)).then(
        (s) => s.mtimeMs,
        () => undefined,
      ),
    ),
  );
  const newestSource = Math.max(...sources.map((t) => t ?? 0));
  if (built !== undefined && built >= newestSource) return ferretdbBinaryPath;

  log(`devdb: building FerretDB v1 (embedded, SQLite) into ${ferretdbBinaryPath} ...`);
  try {
    const modFile = await patchedModFile();
    await run('go', ['build', `-modfile=${modFile}`, '-o', ferretdbBinaryPath, '.'], {
      cwd: sourceDir,
      maxBuffer: 16 * 1024 * 1024,
    });
  } catch (error) {
    const stderr = (error as { stderr?: string }).stderr ?? '';
    throw new Error(`devdb: go build of FerretDB failed\n${stderr}`, { cause: error });
  } finally {
    await rm(buildDir, { recursive: true, force: true });
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
