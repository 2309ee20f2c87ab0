import { spawn, type SpawnOptions } from 'node:child_process';
import { chmod, mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { delimiter, join } from 'node:path';
import { missingPackages, planFor, requiredPackages } from '../src/system-packages';

const packageDir = join(__dirname, '..');
const isRoot = process.getuid?.() === 0;
const NOBODY = 65534;

/** The task as `pnpm test` runs it, with these environment variables on top of ours. */
function runTask(env: Record<string, string>, options: SpawnOptions = {}) {
  return new Promise<{ status: number | null; stderr: string }>((resolve, reject) => {
    const child = spawn(process.execPath, ['--import', 'tsx', 'src/cli.ts'], {
      cwd: packageDir,
      env: { ...process.env, TMPDIR: tmpdir(), ...env },
      stdio: ['ignore', 'ignore', 'pipe'],
      ...options,
    });
    let stderr = '';
    child.stderr?.on('data', (chunk: Buffer) => (stderr += chunk.toString('utf8')));
    child.once('error', reject);
    child.once('close', (status) => resolve({ status, stderr }));
  });
}

let dir: string;
beforeEach(async () => {
  dir = await mkdtemp(join(tmpdir(), 'medseal-system-packages-'));
});
afterEach(() => rm(dir, { recursive: true, force: true }));

describe('the system packages the tests need', () => {
  it('when a program is neither on PATH nor at its path, then its package is missing', async () => {
    const packages = [
      { debian: 'present', program: 'sh' },
      { debian: 'not-on-path', program: 'medseal-no-such-program' },
      { debian: 'not-at-path', program: join(dir, 'chromium') },
    ];
    const missing = await missingPackages(packages, process.env.PATH ?? '');
    expect(missing.map((p) => p.debian)).toEqual(['not-on-path', 'not-at-path']);
  });

  it('when some are missing, then root with apt-get installs them, anyone else gets one line with the exact command', () => {
    const missing = requiredPackages(undefined).filter((p) => p.debian !== 'gnupg');
    expect(planFor([], { root: false, apt: true })).toEqual({ action: 'none' });
    expect(planFor(missing, { root: true, apt: true })).toEqual({
      action: 'install',
      packages: ['chromium', 'sqop', 'rnp', 'sq'],
    });
    expect(planFor(missing, { root: false, apt: true })).toEqual({
      action: 'stop',
      message:
        'The tests need chromium, sqop, rnp, sq; run: sudo apt-get update && sudo apt-get install -y --no-install-recommends chromium sqop rnp sq',
    });
    const elsewhere = planFor(missing, { root: false, apt: false });
    expect(elsewhere).toMatchObject({
      action: 'stop',
      message: expect.stringContaining("your system's equivalents"),
    });
  });

  it('when the task runs without root and Chromium is not where the browser tests look, then it fails with one line naming the install command', async () => {
    const run = await runTask(
      { CHROMIUM_PATH: join(dir, 'chromium') },
      isRoot ? { uid: NOBODY, gid: NOBODY } : {},
    );
    expect(run.status).toBe(1);
    expect(run.stderr).toBe(
      'The tests need chromium; run: sudo apt-get update && sudo apt-get install -y --no-install-recommends chromium\n',
    );
  });

  (isRoot ? it : it.skip)(
    'when the task runs as root and Chromium is missing, then it runs apt-get update and install, and passes once the program is there',
    async () => {
      // A stand-in apt-get first on PATH: it notes its arguments and "installs" Chromium.
      const chromium = join(dir, 'chromium');
      const calls = join(dir, 'calls');
      const aptGet = join(dir, 'apt-get');
      await writeFile(
        aptGet,
        `#!/bin/sh\necho "$DEBIAN_FRONTEND $*" >> ${calls}\n[ "$1" = install ] && printf '#!/bin/sh\\n' > ${chromium} && chmod +x ${chromium}\nexit 0\n`,
      );
      await chmod(aptGet, 0o755);
      const run = await runTask({
        CHROMIUM_PATH: chromium,
        PATH: `${dir}${delimiter}${process.env.PATH ?? ''}`,
      });
      expect(run.status).toBe(0);
      expect((await readFile(calls, 'utf8')).trim().split('\n')).toEqual([
        'noninteractive update',
        'noninteractive install -y --no-install-recommends chromium',
      ]);

      // An install that leaves the program missing fails the task.
      await rm(chromium);
      await writeFile(aptGet, '#!/bin/sh\nexit 0\n');
      const failed = await runTask({
        CHROMIUM_PATH: chromium,
        PATH: `${dir}${delimiter}${process.env.PATH ?? ''}`,
      });
      expect(failed.status).toBe(1);
      expect(failed.stderr).toContain(
        'Could not install chromium; run: apt-get update && apt-get install -y --no-install-recommends chromium',
      );
    },
  );
});
