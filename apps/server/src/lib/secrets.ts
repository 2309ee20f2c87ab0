import { randomBytes } from 'node:crypto';
import { chmod, mkdir, readFile, rename, writeFile } from 'node:fs/promises';
import { dirname } from 'node:path';
import { z } from 'zod';
import type { Config } from './config';

/** The server secrets that must never be in the database (DESIGN §3). */
export interface ServerSecrets {
  /** Argon2id `secret` (pepper) for login-secret hashes. */
  loginPepper: Buffer;
  /** AES-256-GCM key for sealing the stored private keys. */
  keySealingKey: Buffer;
  /** HMAC-SHA256 key for fake salt seeds of unknown emails. */
  fakeSeedKey: Buffer;
  /** Ed25519 seed (base64url) signing the key-transparency tree heads (DESIGN §14). */
  ktLogKey: string;
}

const secretsFileSchema = z
  .object({
    v: z.literal(1),
    loginPepper: z.string().length(43),
    keySealingKey: z.string().length(43),
    fakeSeedKey: z.string().length(43),
    // Added with key transparency: a file from before it gets one on the next start.
    ktLogKey: z.string().length(43).optional(),
  })
  .strict();

const fromB64 = (s: string) => Buffer.from(s, 'base64url');

export function generateSecrets(): ServerSecrets {
  return {
    loginPepper: randomBytes(32),
    keySealingKey: randomBytes(32),
    fakeSeedKey: randomBytes(32),
    ktLogKey: randomBytes(32).toString('base64url'),
  };
}

/**
 * Secrets from config when all three are set. Otherwise, only in the embedded dev mode (no
 * MONGODB_URI), they are generated once into `<dataDir>/secrets.json` (mode 0600) and read
 * from there afterwards. With an external database and no secrets the server refuses to
 * start: a generated secret would be lost with the container and lock everyone out.
 *
 * @throws Error when secrets are missing outside the embedded dev mode, or the file is bad.
 */
export async function loadSecrets(config: Config, secretsFile: string): Promise<ServerSecrets> {
  const { MEDSEAL_LOGIN_PEPPER: p, MEDSEAL_KEY_SEALING_KEY: k, MEDSEAL_FAKE_SEED_KEY: f, MEDSEAL_KT_LOG_KEY: l } = config;
  const all = 'MEDSEAL_LOGIN_PEPPER, MEDSEAL_KEY_SEALING_KEY, MEDSEAL_FAKE_SEED_KEY and MEDSEAL_KT_LOG_KEY';
  if (p && k && f && l) return { loginPepper: fromB64(p), keySealingKey: fromB64(k), fakeSeedKey: fromB64(f), ktLogKey: l };
  if (p || k || f || l) throw new Error(`Set all of ${all}, or none.`);
  if (config.MONGODB_URI) {
    throw new Error(`MONGODB_URI is set but the server secrets are not: set ${all}.`);
  }
  return loadOrCreateSecretsFile(secretsFile);
}

export async function loadOrCreateSecretsFile(path: string): Promise<ServerSecrets> {
  let text: string | undefined;
  try {
    text = await readFile(path, 'utf8');
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code !== 'ENOENT') throw error;
  }
  if (text !== undefined) {
    const file = secretsFileSchema.parse(JSON.parse(text));
    const secrets = {
      loginPepper: fromB64(file.loginPepper),
      keySealingKey: fromB64(file.keySealingKey),
      fakeSeedKey: fromB64(file.fakeSeedKey),
      ktLogKey: file.ktLogKey ?? generateSecrets().ktLogKey,
    };
    if (file.ktLogKey === undefined) await writeSecretsFile(path, secrets, 'replace');
    return secrets;
  }
  const secrets = generateSecrets();
  await mkdir(dirname(path), { recursive: true, mode: 0o700 });
  await writeSecretsFile(path, secrets, 'create');
  return secrets;
}

async function writeSecretsFile(path: string, secrets: ServerSecrets, mode: 'create' | 'replace'): Promise<void> {
  const body = JSON.stringify({
    v: 1,
    loginPepper: secrets.loginPepper.toString('base64url'),
    keySealingKey: secrets.keySealingKey.toString('base64url'),
    fakeSeedKey: secrets.fakeSeedKey.toString('base64url'),
    ktLogKey: secrets.ktLogKey,
  });
  if (mode === 'create') {
    // 'wx': never overwrite secrets another process wrote meanwhile.
    await writeFile(path, `${body}\n`, { mode: 0o600, flag: 'wx' });
  } else {
    // A whole new file renamed into place: the old secrets are never half overwritten.
    const tmp = `${path}.${process.pid}.tmp`;
    await writeFile(tmp, `${body}\n`, { mode: 0o600, flag: 'wx' });
    await rename(tmp, path);
  }
  await chmod(path, 0o600);
}
