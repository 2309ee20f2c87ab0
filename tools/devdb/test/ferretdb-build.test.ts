import { spawn, spawnSync } from 'node:child_process';
import { mkdir, mkdtemp, readdir, rm, utimes, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createInterface } from 'node:readline';
import { waitForPing } from '../src/index';

const devdbDir = join(__dirname, '..');

interface CliRun {
  code: number | null;
  stdout: string;
  stderr: string;
}

/** `pnpm devdb --build-only --bin-dir <binDir>` in a process of its own. */
function buildInProcess(binDir: string): Promise<CliRun> {
  return new Promise((resolve, reject) => {
    const child = spawn(
      process.execPath,
      ['--import', 'tsx', 'src/cli.ts', '--build-only', '--bin-dir', binDir],
      { cwd: devdbDir },
    );
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (chunk: Buffer) => (stdout += chunk.toString('utf8')));
    child.stderr.on('data', (chunk: Buffer) => (stderr += chunk.toString('utf8')));
    child.once('error', reject);
    child.once('close', (code) => resolve({ code, stdout, stderr }));
  });
}

/** Starts the program on a free port and asks it for `ping`. */
async function answersPing(binary: string): Promise<void> {
  const dataDir = await mkdtemp(join(tmpdir(), 'medseal-devdb-data-'));
  const child = spawn(binary, ['-listen', '127.0.0.1:0', '-data', dataDir, '-watch-stdin'], {
    stdio: ['pipe', 'pipe', 'inherit'],
  });
  try {
    const uri = await new Promise<string>((resolve, reject) => {
      createInterface({ input: child.stdout }).on('line', (line) => {
        const match = /^ready (\S+)$/.exec(line);
        if (match?.[1]) resolve(match[1]);
      });
      child.once('exit', (code) => reject(new Error(`FerretDB exited (${code})`)));
    });
    await waitForPing(uri);
  } finally {
    child.kill();
    await rm(dataDir, { recursive: true, force: true });
  }
}

describe('building the embedded FerretDB', () => {
  let binDir: string;
  beforeAll(async () => {
    binDir = await mkdtemp(join(tmpdir(), 'medseal-devdb-bin-'));
  });
  afterAll(() => rm(binDir, { recursive: true, force: true }));

  it('when three processes ask for it at once in an empty folder, then one builds, the others wait, and all get the same working program', async () => {
    const runs = await Promise.all([1, 2, 3].map(() => buildInProcess(binDir)));
    expect(runs.map((r) => r.code)).toEqual([0, 0, 0]);
    const binary = join(binDir, 'medseal-ferretdb');
    expect(runs.map((r) => r.stdout.trim())).toEqual([binary, binary, binary]);
    expect(runs.filter((r) => r.stderr.includes('devdb: building FerretDB')).length).toBe(1);
    // Neither the lock nor a work folder is left behind.
    expect(await readdir(binDir)).toEqual(['medseal-ferretdb']);
    await answersPing(binary);
  });

  it('when a builder died holding the lock and left its work folder, then the next build takes the lock over and cleans up', async () => {
    const dead = spawnSync('true').pid;
    await writeFile(join(binDir, 'build.lock'), String(dead));
    await mkdir(join(binDir, `build-${dead}-left`));
    // An older program: it must be built again.
    await utimes(join(binDir, 'medseal-ferretdb'), new Date(0), new Date(0));

    const run = await buildInProcess(binDir);
    expect(run.code).toBe(0);
    expect(run.stderr).toContain('devdb: building FerretDB');
    expect(run.stderr).not.toContain('waiting');
    expect(await readdir(binDir)).toEqual(['medseal-ferretdb']);
    await answersPing(join(binDir, 'medseal-ferretdb'));
  });
});
