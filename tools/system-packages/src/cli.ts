// `pnpm test` runs this first (turbo task `system-packages`): installs the Debian packages the
// tests need when it can (root with apt-get), else stops with one line naming the command.
import { spawnSync } from 'node:child_process';
import {
  canRun,
  installCommand,
  missingPackages,
  planFor,
  requiredPackages,
} from './system-packages';

async function main(): Promise<number> {
  const searchPath = process.env.PATH ?? '';
  const packages = requiredPackages(process.env.CHROMIUM_PATH);
  const root = process.getuid?.() === 0;
  const plan = planFor(await missingPackages(packages, searchPath), {
    root,
    apt: await canRun('apt-get', searchPath),
  });
  if (plan.action === 'none') return 0;
  if (plan.action === 'stop') {
    console.error(plan.message);
    return 1;
  }
  const command = installCommand(plan.packages, root);
  console.error(`Installing what the tests need: ${command}`);
  const result = spawnSync('sh', ['-c', command], {
    stdio: 'inherit',
    env: { ...process.env, DEBIAN_FRONTEND: 'noninteractive' },
  });
  const still = await missingPackages(packages, searchPath);
  if (result.status !== 0 || still.length > 0) {
    console.error(`Could not install ${plan.packages.join(' ')}; run: ${command}`);
    return 1;
  }
  return 0;
}

main().then(
  (code) => {
    process.exitCode = code;
  },
  (error: unknown) => {
    console.error(error);
    process.exitCode = 1;
  },
);
