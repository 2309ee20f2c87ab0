import { randomBytes } from 'node:crypto';
import { constants as fsConstants } from 'node:fs';
import {
  access,
  chmod,
  copyFile,
  mkdir,
  readFile,
  rename,
  unlink,
  writeFile,
} from 'node:fs/promises';
import { dirname, resolve } from 'node:path';
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
 * MONGODB_URI), they are generated once into `<secretsDir>/secrets.json` (mode 0600) and read
 * from there afterwards. With an external database and no secrets the server refuses to
 * start: a generated secret would be lost with the container and lock everyone out.
 *
 * @throws Error when secrets are missing outside the embedded dev mode, or the file is bad.
 */
export async function loadSecrets(config: Config, secretsFile: string): Promise<ServerSecrets> {
  const {
    MEDSEAL_LOGIN_PEPPER: p,
    MEDSEAL_KEY_SEALING_KEY: k,
    MEDSEAL_FAKE_SEED_KEY: f,
    MEDSEAL_KT_LOG_KEY: l,
  } = config;
  const all =
    'MEDSEAL_LOGIN_PEPPER, MEDSEAL_KEY_SEALING_KEY, MEDSEAL_FAKE_SEED_KEY and MEDSEAL_KT_LOG_KEY';
  if (p && k && f && l)
    return {
      loginPepper: fromB64(p),
      keySealingKey: fromB64(k),
      fakeSeedKey: fromB64(f),
      ktLogKey: l,
    };
  if (p || k || f || l) throw new Error(`Set all of ${all}, or none.`);
  if (config.MONGODB_URI) {
    throw new Error(`MONGODB_URI is set but the server secrets are not: set ${all}.`);
  }
  return loadOrCreateSecretsFile(secretsFile);
}

/**
 * The secrets the server runs with under `config`: in the embedded mode a `secrets.json` an
 * older version left in the data folder is moved to the secrets folder first (`onMoved` is
 * told). The server's start and the web build's log key (`kt:log-key`) both come here, so
 * they always name the same key.
 * @throws Error as loadSecrets.
 */
export async function loadServerSecrets(
  config: Config,
  onMoved: (file: string) => void,
): Promise<ServerSecrets> {
  const secretsFile = resolve(config.MEDSEAL_SECRETS_DIR, 'secrets.json');
  // Only the embedded mode ever generated that file.
  if (
    !config.MONGODB_URI &&
    (await moveLegacySecretsFile(resolve(config.MEDSEAL_DATA_DIR, 'secrets.json'), secretsFile))
  ) {
    onMoved(secretsFile);
  }
  return loadSecrets(config, secretsFile);
}

/**
 * The log key whose public half a web build on this machine carries (`kt:log-key`, read by
 * apps/web/vite.config.ts): MEDSEAL_KT_LOG_KEY when set, else the embedded mode's key (its
 * secrets file, made when missing) — the key `pnpm start` signs with.
 */
export async function ktLogKeyForBuild(
  config: Config,
  onMoved: (file: string) => void,
): Promise<string> {
  if (config.MEDSEAL_KT_LOG_KEY) return config.MEDSEAL_KT_LOG_KEY;
  return (await loadServerSecrets({ ...config, MONGODB_URI: undefined }, onMoved)).ktLogKey;
}

/**
 * Refuses a built web app that carries another log key than the server's (vite.config.ts
 * writes `medseal-build.json`): its users could check no key at all.
 * @throws Error naming the fix.
 */
export async function checkWebBuildLogKey(webDist: string, logPublicKey: string): Promise<void> {
  let built: unknown;
  try {
    built = (
      JSON.parse(await readFile(resolve(webDist, 'medseal-build.json'), 'utf8')) as {
        ktLogPublicKey?: unknown;
      }
    ).ktLogPublicKey;
  } catch (cause) {
    throw new Error(
      `The web app in ${webDist} has no medseal-build.json: rebuild it (pnpm --filter @medseal/web build).`,
      { cause },
    );
  }
  if (built !== logPublicKey) {
    throw new Error(
      `The web app in ${webDist} was built for another key-transparency log key than this server's (${logPublicKey}): rebuild it with VITE_MEDSEAL_KT_LOG_KEY=${logPublicKey}.`,
    );
  }
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

async function writeSecretsFile(
  path: string,
  secrets: ServerSecrets,
  mode: 'create' | 'replace',
): Promise<void> {
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

/**
 * Moves a `secrets.json` that an older version generated inside the data folder to the
 * secrets folder, once (issue 15, finding 11): generating new secrets instead would lock every
 * account out. Does nothing when the secrets folder already has a file or there is no old one.
 * @returns true when it moved the file.
 */
export async function moveLegacySecretsFile(legacy: string, target: string): Promise<boolean> {
  try {
    await access(target);
    return false;
  } catch {
    // no file at the target yet
  }
  try {
    await access(legacy);
  } catch {
    return false;
  }
  await mkdir(dirname(target), { recursive: true, mode: 0o700 });
  try {
    await rename(legacy, target);
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code !== 'EXDEV') throw error;
    // Another file system: copy (never overwriting), then remove the old one.
    await copyFile(legacy, target, fsConstants.COPYFILE_EXCL);
    await chmod(target, 0o600);
    await unlink(legacy);
  }
  return true;
}
