import { execFile } from 'node:child_process';
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';

const run = promisify(execFile);

/**
 * Encrypts `data` to the given public keys with Sequoia's `sqop` (a second OpenPGP
 * implementation: these are interop vectors, not messages our own code made).
 */
export async function sqopEncrypt(publicKeys: string[], data: string | Uint8Array, options: { armor?: boolean } = {}): Promise<Buffer> {
  const dir = await mkdtemp(join(tmpdir(), 'medseal-sqop-'));
  try {
    const certs = await Promise.all(
      publicKeys.map(async (key, i) => {
        const path = join(dir, `cert${i}.asc`);
        await writeFile(path, key);
        return path;
      }),
    );
    const input = join(dir, 'in');
    const output = join(dir, 'out');
    await writeFile(input, data);
    const args = ['encrypt', ...(options.armor === false ? ['--no-armor'] : []), ...certs];
    await run('sh', ['-c', `sqop "$@" < "${input}" > "${output}"`, 'sh', ...args]);
    return await readFile(output);
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
}

/** An armored message for these recipients (what a record create/update sends). */
export async function armoredTo(publicKeys: string[], text = 'padded record envelope'): Promise<string> {
  return (await sqopEncrypt(publicKeys, text)).toString('utf8');
}
