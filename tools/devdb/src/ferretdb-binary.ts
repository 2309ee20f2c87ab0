import { execFile } from 'node:child_process';
import {
  cp,
  link,
  mkdir,
  mkdtemp,
  readdir,
  readFile,
  rename,
  rm,
  stat,
  writeFile,
} from 'node:fs/promises';
import { join } from 'node:path';
import { promisify } from 'node:util';

const run = promisify(execFile);

// This package is CommonJS so that both tsx and jest's transform give it __dirname.
const devdbDir = join(__dirname, '..');
const sourceDir = join(devdbDir, 'ferretdb');
const BINARY_NAME = 'medseal-ferretdb';
/** Where the built program is kept (git-ignored). */
const defaultBinDir = join(devdbDir, '.bin');
/** The default program path. */
export const ferretdbBinaryPath = join(defaultBinDir, BINARY_NAME);

/** A source fix applied to FerretDB v1.24.2 at build time, like the driver patch under patches/. */
interface SourceFix {
  file: string;
  from: string;
  to: string;
  /** Go code added at the end of the file (helpers `to` calls). */
  append?: string;
}

/**
 * Its SQLite backend looks documents up by `_id` with the expression
 * `_ferretdb_sjson->'$._id'`, but builds the unique `_id` index on `_ferretdb_sjson->"_id"`;
 * SQLite uses an expression index only for the same expression, so every find, update and
 * delete by `_id` scanned the whole table (measured: 150 ms per lookup in 15,000 audit
 * events; with the index, a few microseconds). `->'_id'` reads the same field and matches the
 * index (EXPLAIN QUERY PLAN: SEARCH ... USING INDEX).
 */
const ID_INDEX_FIX: SourceFix = {
  file: 'internal/backends/sqlite/metadata/metadata.go',
  from: `IDColumn = DefaultColumn + "->'$._id'"`,
  to: `IDColumn = DefaultColumn + "->'_id'"`,
};

/**
 * FerretDB hands the SQLite backend the whole filter but the backend turned it into SQL only
 * when it was `{_id: v}` and nothing else. So `{_id: {$in: [...]}}`, and any filter with more
 * than the `_id` (a compare-and-set `{_id, rev}`, a delete `{_id, createdAt}`), loaded the
 * whole table into Go and filtered it there: measured, a share of 25 records (25 `{_id, rev}`
 * updates) in a database of 1,100 records took 2.5 s each under load and failed with 503.
 * Numbers were never pushed down, so the key-transparency log's lookups by leaf and head
 * number (`{_id: 12}`) read the whole log. This narrows every filter whose top level has one
 * `_id` key — equal to a string, an ObjectID or a number, or `$in` up to 1,000 of them — in
 * SQL, by the `_id` index: `_id = ?` or `_id IN (...)` with every JSON text such an `_id` is
 * stored as (medsealIDTexts), so it is exact. FerretDB
 * still applies the whole filter in Go to the rows found (find, count, distinct, aggregate,
 * update, delete and findAndModify all do, as for every pushdown), and the `_id` key of a
 * filter is one of its conjuncts, so the answer is the same. `_id` ranges are not pushed
 * down: SQLite compares the JSON text of the ids, whose order differs from the strings' own
 * for ids with characters JSON escapes, so a range there could miss documents.
 */
const ID_PUSHDOWN_FIX: SourceFix = {
  file: 'internal/backends/sqlite/collection.go',
  from: `	if params.Filter.Len() == 1 {
		v, _ := params.Filter.Get("_id")
		switch v.(type) {
		case string, types.ObjectID:
			whereClause = fmt.Sprintf(\` WHERE %s = ?\`, metadata.IDColumn)
			args = []any{string(must.NotFail(sjson.MarshalSingleValue(v)))}
		}
	}`,
  to: `	whereClause, args = medsealIDWhere(params.Filter)`,
  append: `
// medsealIDWhere returns the WHERE clause that narrows filter to the documents its top-level
// _id condition names (medseal devdb source fix), or "" to leave the whole filter to the Go side.
func medsealIDWhere(filter *types.Document) (string, []any) {
	var id any
	found := 0
	values := filter.Values()
	for i, k := range filter.Keys() {
		if k == "_id" {
			id = values[i]
			found++
		}
	}
	if found != 1 {
		return "", nil
	}
	var wanted []any
	if op, ok := id.(*types.Document); ok {
		if op.Len() != 1 {
			return "", nil
		}
		in, _ := op.Get("$in")
		values, ok := in.(*types.Array)
		if !ok || values.Len() > 1000 {
			return "", nil
		}
		for i := 0; i < values.Len(); i++ {
			wanted = append(wanted, must.NotFail(values.Get(i)))
		}
	} else {
		wanted = []any{id}
	}
	args := make([]any, 0, len(wanted))
	for _, v := range wanted {
		texts, ok := medsealIDTexts(v)
		if !ok {
			return "", nil
		}
		args = append(args, texts...)
	}
	if len(args) == 0 {
		return " WHERE FALSE", nil
	}
	if len(args) == 1 {
		return fmt.Sprintf(\` WHERE %s = ?\`, metadata.IDColumn), args
	}
	marks := strings.TrimSuffix(strings.Repeat("?, ", len(args)), ", ")
	return fmt.Sprintf(\` WHERE %s IN (%s)\`, metadata.IDColumn, marks), args
}

// medsealIDTexts returns every JSON text an _id equal to v is stored as, or false when that is
// not known exactly. A string or ObjectID has one. A number is stored as Go's JSON of its
// value, which is the same for equal int32, int64 and double values (integral doubles print
// as integers below 1e21, beyond every int64), except zero, also stored as "-0"; NaN and the
// infinities are left to the Go side.
func medsealIDTexts(v any) ([]any, bool) {
	switch v := v.(type) {
	case string, types.ObjectID:
		return []any{string(must.NotFail(sjson.MarshalSingleValue(v)))}, true
	case int32, int64:
		if v == int32(0) || v == int64(0) {
			return []any{"0", "-0"}, true
		}
		return []any{string(must.NotFail(sjson.MarshalSingleValue(v)))}, true
	case float64:
		if math.IsNaN(v) || math.IsInf(v, 0) {
			return nil, false
		}
		if v == 0 {
			return []any{"0", "-0"}, true
		}
		return []any{string(must.NotFail(sjson.MarshalSingleValue(v)))}, true
	}
	return nil, false
}
`,
};

/** The import the fix above needs. */
const ID_PUSHDOWN_IMPORT_FIX: SourceFix = {
  file: 'internal/backends/sqlite/collection.go',
  from: `	"fmt"
	"sort"`,
  to: `	"fmt"
	"math"
	"sort"`,
};

/** The same for \`explain\`, which has its own copy of the pushdown logic and reports it. */
const ID_PUSHDOWN_EXPLAIN_FIX: SourceFix = {
  file: 'internal/backends/sqlite/collection.go',
  from: `	if params.Filter.Len() == 1 {
		v, _ := params.Filter.Get("_id")
		switch v.(type) {
		case string, types.ObjectID:
			filterPushdown = true
			whereClause = fmt.Sprintf(\` WHERE %s = ?\`, metadata.IDColumn)
			args = []any{string(must.NotFail(sjson.MarshalSingleValue(v)))}
		}
	}`,
  to: `	whereClause, args = medsealIDWhere(params.Filter)
	filterPushdown = whereClause != ""`,
};

/**
 * Copies the FerretDB module out of Go's module cache (whose files Go refuses to overlay),
 * applies the fixes, and writes a go.mod that replaces the module with the copy. Returns that
 * go.mod's path, for `go build -modfile`.
 */
async function patchedModFile(buildDir: string): Promise<string> {
  const { stdout } = await run('go', ['mod', 'download', '-json', 'github.com/FerretDB/FerretDB'], {
    cwd: sourceDir,
  });
  const moduleDir = (JSON.parse(stdout) as { Dir: string }).Dir;
  const copy = join(buildDir, 'ferretdb-src');
  await cp(moduleDir, copy, { recursive: true });
  await run('chmod', ['-R', 'u+w', copy]);
  for (const fix of [
    ID_INDEX_FIX,
    ID_PUSHDOWN_FIX,
    ID_PUSHDOWN_IMPORT_FIX,
    ID_PUSHDOWN_EXPLAIN_FIX,
  ]) {
    const target = join(copy, fix.file);
    const original = await readFile(target, 'utf8');
    if (!original.includes(fix.from))
      throw new Error(`devdb: ${fix.file} no longer holds the lines a source fix replaces`);
    await writeFile(target, original.replace(fix.from, fix.to) + (fix.append ?? ''));
  }
  const modFile = join(buildDir, 'go.mod');
  const goMod = await readFile(join(sourceDir, 'go.mod'), 'utf8');
  await writeFile(modFile, `${goMod}\nreplace github.com/FerretDB/FerretDB => ${copy}\n`);
  await cp(join(sourceDir, 'go.sum'), join(buildDir, 'go.sum'));
  return modFile;
}

/** True when `binary` is there and newer than its sources (this file included: it holds the source fix). */
async function isFresh(binary: string): Promise<boolean> {
  const mtime = (file: string) =>
    stat(file).then(
      (s) => s.mtimeMs,
      () => undefined,
    );
  const [built, ...sources] = await Promise.all(
    [binary, __filename, ...['main.go', 'go.mod', 'go.sum'].map((f) => join(sourceDir, f))].map(
      mtime,
    ),
  );
  return built !== undefined && built >= Math.max(...sources.map((t) => t ?? 0));
}

/** True when a process with this id runs (on this machine: the lock is a local file). */
function isRunning(pid: number): boolean {
  if (!Number.isInteger(pid) || pid <= 0) return false;
  try {
    process.kill(pid, 0);
    return true;
  } catch (error) {
    return (error as NodeJS.ErrnoException).code === 'EPERM';
  }
}

type Lock = { held: true; release(): Promise<void> } | { held: false; owner: number };

/**
 * Takes `binDir/build.lock`, a file holding the builder's process id, made in one step (a
 * hard link to a file already written, which fails if the lock exists). A lock whose process
 * is gone is removed: a build killed half-way must not keep anyone waiting.
 */
async function takeLock(binDir: string): Promise<Lock> {
  const lockFile = join(binDir, 'build.lock');
  const mine = join(binDir, `build.lock.${process.pid}`);
  await writeFile(mine, String(process.pid));
  try {
    for (;;) {
      try {
        await link(mine, lockFile);
        return {
          held: true,
          release: async () => {
            if ((await readFile(lockFile, 'utf8').catch(() => '')) === String(process.pid))
              await rm(lockFile, { force: true });
          },
        };
      } catch (error) {
        if ((error as NodeJS.ErrnoException).code !== 'EEXIST') throw error;
      }
      const owner = Number(await readFile(lockFile, 'utf8').catch(() => 'released'));
      if (Number.isNaN(owner)) continue; // released meanwhile: try again
      if (isRunning(owner)) return { held: false, owner };
      // Only the lock of the process found dead (another waiter may have replaced it already).
      if ((await readFile(lockFile, 'utf8').catch(() => '')) === String(owner))
        await rm(lockFile, { force: true });
    }
  } finally {
    await rm(mine, { force: true });
  }
}

/**
 * Builds in a work folder of this process's own (removed after), then renames the program into
 * place, which replaces any older one in one step. `-trimpath` keeps the work folder's path
 * out of Go's build cache keys, so a rebuild reuses the compiled packages (seconds, not minutes).
 */
async function build(binDir: string, binary: string): Promise<void> {
  const workDir = await mkdtemp(join(binDir, `build-${process.pid}-`));
  try {
    const modFile = await patchedModFile(workDir);
    const built = join(workDir, BINARY_NAME);
    await run('go', ['build', '-trimpath', `-modfile=${modFile}`, '-o', built, '.'], {
      cwd: sourceDir,
      maxBuffer: 16 * 1024 * 1024,
    });
    await rename(built, binary);
  } catch (error) {
    const stderr = (error as { stderr?: string }).stderr ?? '';
    throw new Error(`devdb: go build of FerretDB failed\n${stderr}`, { cause: error });
  } finally {
    await rm(workDir, { recursive: true, force: true });
  }
}

/** Work folders and lock files left by builders that died, and the shared folder of older versions. */
async function removeLeftovers(binDir: string): Promise<void> {
  for (const name of await readdir(binDir)) {
    const pid = /^build(?:-|\.lock\.)(\d+)/.exec(name)?.[1];
    if (name === 'build' || (pid !== undefined && !isRunning(Number(pid))))
      await rm(join(binDir, name), { recursive: true, force: true });
  }
}

export interface EnsureFerretdbOptions {
  log: (line: string) => void;
  /** Folder of the program (default `tools/devdb/.bin`, git-ignored). */
  binDir?: string;
}

/**
 * Builds the embedded FerretDB program if it is missing or older than its sources, and returns
 * its path. Safe to call from several processes at once: one builds, under a lock, while the
 * others wait and then use its program.
 * Needs Go; the first build downloads FerretDB's modules and takes a few minutes.
 * @throws when `go build` fails (its output is in the error message).
 */
export async function ensureFerretdbBinary({
  log,
  binDir = defaultBinDir,
}: EnsureFerretdbOptions): Promise<string> {
  const binary = join(binDir, BINARY_NAME);
  await mkdir(binDir, { recursive: true });
  let waitingFor: number | undefined;
  for (;;) {
    if (await isFresh(binary)) return binary;
    const lock = await takeLock(binDir);
    if (lock.held) {
      try {
        if (await isFresh(binary)) return binary; // built by the process we waited for
        await removeLeftovers(binDir);
        log(`devdb: building FerretDB v1 (embedded, SQLite) into ${binary} ...`);
        await build(binDir, binary);
        return binary;
      } finally {
        await lock.release();
      }
    }
    if (lock.owner !== waitingFor)
      log(`devdb: waiting for process ${lock.owner}, which is building FerretDB ...`);
    waitingFor = lock.owner;
    await new Promise((resolve) => setTimeout(resolve, 250));
  }
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
