import { access, constants } from 'node:fs/promises';
import { delimiter, isAbsolute, join } from 'node:path';

/** A Debian package some tests run, and the program that says it is installed. */
export interface SystemPackage {
  debian: string;
  /** A command looked up on PATH, or an absolute path. */
  program: string;
}

/**
 * What the test command needs from the system: Chromium for the web app's browser tests
 * (`CHROMIUM_PATH`, as apps/web/e2e uses it), GnuPG for those tests and the OpenPGP interop
 * tests, Sequoia's sqop and RNP for the interop tests, RNP and Sequoia's sq for the web app's
 * export test (its README's commands run as written).
 */
export function requiredPackages(chromiumPath: string | undefined): SystemPackage[] {
  return [
    { debian: 'chromium', program: chromiumPath ?? '/usr/bin/chromium' },
    { debian: 'gnupg', program: 'gpg' },
    { debian: 'sqop', program: 'sqop' },
    { debian: 'rnp', program: 'rnp' },
    { debian: 'sq', program: 'sq' },
  ];
}

/** True when `program` (a name looked up in `searchPath`, or an absolute path) can be run. */
export async function canRun(program: string, searchPath: string): Promise<boolean> {
  const candidates = isAbsolute(program)
    ? [program]
    : searchPath
        .split(delimiter)
        .filter(Boolean)
        .map((dir) => join(dir, program));
  for (const file of candidates) {
    if (
      await access(file, constants.X_OK).then(
        () => true,
        () => false,
      )
    )
      return true;
  }
  return false;
}

/** The packages whose program cannot be run. */
export async function missingPackages(
  packages: SystemPackage[],
  searchPath: string,
): Promise<SystemPackage[]> {
  const found = await Promise.all(packages.map((p) => canRun(p.program, searchPath)));
  return packages.filter((_, i) => !found[i]);
}

/** The one command that installs `packages` on Debian, as this user would type it. */
export function installCommand(packages: string[], root: boolean): string {
  const sudo = root ? '' : 'sudo ';
  return `${sudo}apt-get update && ${sudo}apt-get install -y --no-install-recommends ${packages.join(' ')}`;
}

export type Plan =
  | { action: 'none' }
  | { action: 'install'; packages: string[] }
  /** One line for the user: what is missing and the exact command that installs it. */
  | { action: 'stop'; message: string };

/**
 * Installs what is missing when it can (as root, with apt-get), else says in one line what
 * to run.
 */
export function planFor(missing: SystemPackage[], host: { root: boolean; apt: boolean }): Plan {
  if (missing.length === 0) return { action: 'none' };
  const packages = missing.map((p) => p.debian);
  if (host.root && host.apt) return { action: 'install', packages };
  const how = host.apt
    ? `run: ${installCommand(packages, host.root)}`
    : `install the Debian packages ${packages.join(' ')} or your system's equivalents (${installCommand(packages, false)})`;
  return { action: 'stop', message: `The tests need ${packages.join(', ')}; ${how}` };
}
