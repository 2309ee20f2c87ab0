import { mkdir, mkdtemp, readFile, rm, stat, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { loadConfig } from '../src/lib/config';
import { logPublicKeyOf } from '../src/lib/pgp';
import {
  checkWebBuildLogKey,
  ktLogKeyForBuild,
  loadSecrets,
  loadServerSecrets,
} from '../src/lib/secrets';

describe('server secrets', () => {
  let dir: string;
  beforeEach(async () => {
    dir = await mkdtemp(join(tmpdir(), 'medseal-secrets-'));
  });
  afterEach(() => rm(dir, { recursive: true, force: true }));

  it('when running embedded (no MONGODB_URI) without secrets, then they are generated once into a 0600 file and read back the same', async () => {
    const file = join(dir, 'data', 'secrets.json');
    const first = await loadSecrets(loadConfig({}), file);
    expect((await stat(file)).mode & 0o777).toBe(0o600);
    const second = await loadSecrets(loadConfig({}), file);
    expect(second.loginPepper.equals(first.loginPepper)).toBe(true);
    expect(second.keySealingKey.equals(first.keySealingKey)).toBe(true);
    expect(JSON.parse(await readFile(file, 'utf8'))).toMatchObject({ v: 1 });
  });

  it('when a secrets file from before key transparency is read, then a log key is added once and the other secrets stay', async () => {
    const file = join(dir, 'secrets.json');
    const b64 = (fill: number) => Buffer.alloc(32, fill).toString('base64url');
    const old = { v: 1, loginPepper: b64(1), keySealingKey: b64(2), fakeSeedKey: b64(3) };
    await writeFile(file, JSON.stringify(old), { mode: 0o600 });
    const first = await loadSecrets(loadConfig({}), file);
    expect(first.ktLogKey).toMatch(/^[A-Za-z0-9_-]{43}$/);
    expect(JSON.parse(await readFile(file, 'utf8'))).toEqual({ ...old, ktLogKey: first.ktLogKey });
    expect((await stat(file)).mode & 0o777).toBe(0o600);
    expect((await loadSecrets(loadConfig({}), file)).ktLogKey).toBe(first.ktLogKey);
  });

  it('when the web app is built on the machine, then it takes the log key the server starts with, and the server refuses a build for another key', async () => {
    const settings = loadConfig({
      MEDSEAL_SECRETS_DIR: join(dir, 'secrets'),
      MEDSEAL_DATA_DIR: join(dir, 'data'),
    });
    const built = await ktLogKeyForBuild(settings, () => undefined);
    expect((await loadServerSecrets(settings, () => undefined)).ktLogKey).toBe(built);
    // A build with MONGODB_URI in its environment still takes this machine's key; an explicit one wins.
    expect(
      await ktLogKeyForBuild(
        { ...settings, MONGODB_URI: 'mongodb://db.example:27017/m' },
        () => undefined,
      ),
    ).toBe(built);
    const explicit = Buffer.alloc(32, 9).toString('base64url');
    expect(
      await ktLogKeyForBuild({ ...settings, MEDSEAL_KT_LOG_KEY: explicit }, () => undefined),
    ).toBe(explicit);

    const dist = join(dir, 'dist');
    await expect(checkWebBuildLogKey(dist, logPublicKeyOf(built))).rejects.toThrow(
      /no medseal-build.json/,
    );
    await mkdir(dist);
    await writeFile(
      join(dist, 'medseal-build.json'),
      JSON.stringify({ ktLogPublicKey: logPublicKeyOf(explicit) }),
    );
    await expect(checkWebBuildLogKey(dist, logPublicKeyOf(built))).rejects.toThrow(
      /built for another key-transparency log key/,
    );
    await writeFile(
      join(dist, 'medseal-build.json'),
      JSON.stringify({ ktLogPublicKey: logPublicKeyOf(built) }),
    );
    await expect(checkWebBuildLogKey(dist, logPublicKeyOf(built))).resolves.toBeUndefined();
  });

  it('when an external database is configured without secrets, then the server refuses to start', async () => {
    await expect(
      loadSecrets(
        loadConfig({ MONGODB_URI: 'mongodb://db.example:27017/medseal' }),
        join(dir, 's.json'),
      ),
    ).rejects.toThrow(/MEDSEAL_LOGIN_PEPPER/);
  });

  it('when secrets are configured, then they are used and no file is written', async () => {
    const key = Buffer.alloc(32, 1).toString('base64url');
    const secrets = await loadSecrets(
      loadConfig({
        MONGODB_URI: 'mongodb://db.example:27017/medseal',
        MEDSEAL_LOGIN_PEPPER: key,
        MEDSEAL_KEY_SEALING_KEY: key,
        MEDSEAL_FAKE_SEED_KEY: key,
        MEDSEAL_KT_LOG_KEY: key,
      }),
      join(dir, 's.json'),
    );
    expect(secrets.loginPepper.equals(Buffer.alloc(32, 1))).toBe(true);
    await expect(stat(join(dir, 's.json'))).rejects.toThrow();
  });
});
