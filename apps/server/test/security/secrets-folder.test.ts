import { mkdtemp, mkdir, readFile, stat, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { loadConfig } from '../../src/lib/config';
import { loadSecrets, moveLegacySecretsFile } from '../../src/lib/secrets';

describe('server secrets live apart from the data folder (issue 15, finding 11)', () => {
  it('when nothing is configured, then the secrets folder is not the data folder nor inside it', () => {
    const config = loadConfig({});
    const data = resolve(config.MEDSEAL_DATA_DIR);
    const secrets = resolve(config.MEDSEAL_SECRETS_DIR);
    expect(secrets.startsWith(data)).toBe(false);
    expect(data.startsWith(secrets)).toBe(false);
  });

  it('when the secrets folder is set inside the data folder (or the same), then the server refuses to start', () => {
    expect(() =>
      loadConfig({
        MEDSEAL_DATA_DIR: '/srv/medseal/data',
        MEDSEAL_SECRETS_DIR: '/srv/medseal/data/keys',
      }),
    ).toThrow(/MEDSEAL_SECRETS_DIR/);
    expect(() =>
      loadConfig({
        MEDSEAL_DATA_DIR: '/srv/medseal/data',
        MEDSEAL_SECRETS_DIR: '/srv/medseal/data',
      }),
    ).toThrow(/MEDSEAL_SECRETS_DIR/);
    expect(() =>
      loadConfig({ MEDSEAL_DATA_DIR: '/srv/medseal/data', MEDSEAL_SECRETS_DIR: '/srv/medseal' }),
    ).toThrow(/MEDSEAL_SECRETS_DIR/);
    expect(
      loadConfig({
        MEDSEAL_DATA_DIR: '/srv/medseal/data',
        MEDSEAL_SECRETS_DIR: '/srv/medseal/data-secrets',
      }).MEDSEAL_SECRETS_DIR,
    ).toBe('/srv/medseal/data-secrets');
  });

  it('when an older install left secrets.json in the data folder, then it is moved (same secrets), never regenerated', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'medseal-secrets-'));
    const config = loadConfig({});
    const legacy = join(dir, 'data', 'secrets.json');
    const target = join(dir, 'secrets', 'secrets.json');
    await mkdir(join(dir, 'data'));
    const before = await loadSecrets(config, legacy);
    const text = await readFile(legacy, 'utf8');
    expect(await moveLegacySecretsFile(legacy, target)).toBe(true);
    expect(await readFile(target, 'utf8')).toBe(text);
    await expect(stat(legacy)).rejects.toMatchObject({ code: 'ENOENT' });
    expect((await stat(target)).mode & 0o777).toBe(0o600);
    expect((await loadSecrets(config, target)).loginPepper.equals(before.loginPepper)).toBe(true);
    // Once there is a file in the secrets folder, a stray old one is left alone.
    await writeFile(legacy, 'stale');
    expect(await moveLegacySecretsFile(legacy, target)).toBe(false);
    expect(await readFile(target, 'utf8')).toBe(text);
  });
});
