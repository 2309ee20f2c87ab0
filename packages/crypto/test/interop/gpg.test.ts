// GnuPG 2.2 interop: our records and attachments decrypt and verify in gpg with exported keys,
// gpg's messages for our keys open in ours, and the export format imports into gpg.
import { openFile, readPublicKey, sealFile } from '../../src';
import { dearmor } from '../../src/inspect/armor';
import { makeScenario, PASSPHRASE, run, runOk, TempDir, type Scenario } from './tools';
import { unpadFile } from '../../src/padding';

let s: Scenario;
let dir: TempDir;
let gpg: (args: string[], input?: Uint8Array | string) => ReturnType<typeof run>;

beforeAll(async () => {
  s = await makeScenario();
  dir = new TempDir();
  const home = dir.file('gnupg');
  runOk('mkdir', ['-m', '700', home]);
  gpg = (args, input) =>
    run(
      'gpg',
      [
        '--homedir',
        home,
        '--batch',
        '--no-tty',
        '--pinentry-mode',
        'loopback',
        '--passphrase',
        PASSPHRASE,
        '--trust-model',
        'always',
        ...args,
      ],
      input === undefined ? {} : { input },
    );
  for (const key of [s.readerExported, s.authorExported]) {
    const imported = gpg(['--import'], key);
    if (imported.status !== 0) throw new Error(imported.stderr);
  }
});

afterAll(() => {
  run('gpgconf', ['--homedir', dir.file('gnupg'), '--kill', 'gpg-agent']);
  dir.remove();
});

describe('interop: GnuPG 2.2', () => {
  it('when the exported private keys are imported, then gpg lists them as secret keys with our fingerprints', () => {
    const listed = gpg(['--with-colons', '--list-secret-keys']).stdout.toString();
    expect(listed).toContain(s.reader.fingerprint.toUpperCase());
    expect(listed).toContain(s.author.fingerprint.toUpperCase());
  });

  it('when gpg decrypts our record, then it verifies the author signature and yields the padded envelope', () => {
    const out = gpg(['--status-fd', '2', '--decrypt'], s.record.message);
    expect(out.status).toBe(0);
    expect(out.stderr).toContain(`[GNUPG:] VALIDSIG ${s.author.fingerprint.toUpperCase()}`);
    expect(out.stderr).toMatch(/\[GNUPG:\] DECRYPTION_OKAY/);
    expect(out.stdout.toString().startsWith(s.record.plaintextPrefix)).toBe(true);
  });

  it('when gpg decrypts our binary attachment, then it verifies and the bytes less our Padmé padding are identical', () => {
    const out = gpg(['--status-fd', '2', '--decrypt'], s.attachment.message);
    expect(out.status).toBe(0);
    expect(out.stderr).toContain(`[GNUPG:] VALIDSIG ${s.author.fingerprint.toUpperCase()}`);
    expect(Buffer.from(unpadFile(out.stdout)).equals(Buffer.from(s.attachment.data))).toBe(true);
  });

  it('when gpg signs and encrypts for our key (-z0 and compressed), then ours opens both as verified', async () => {
    const plain = dir.file('plain.bin', new Uint8Array(70_000).fill(42));
    for (const extra of [
      ['-z', '0'],
      ['-z', '6'],
    ]) {
      const out = gpg([
        '--encrypt',
        '--sign',
        ...extra,
        '-r',
        s.reader.fingerprint,
        '-u',
        s.author.fingerprint,
        '--output',
        '-',
        plain,
      ]);
      expect(out.status).toBe(0);
      const result = await openFile({
        message: new Uint8Array(out.stdout),
        myKey: s.reader.privateKey,
        authorPublicKey: s.author.publicKey,
      });
      expect(result.status).toBe('verified');
    }
  });

  it('when gpg makes its own ed25519/cv25519 key, then we accept it, seal to it, and gpg reads it; its armored message opens in ours', async () => {
    expect(
      gpg(['--quick-gen-key', 'Gpg User <gpg@example.org>', 'ed25519', 'sign', 'never']).status,
    ).toBe(0);
    const fpr =
      (gpg(['--with-colons', '--list-keys', 'gpg@example.org'])
        .stdout.toString()
        .match(/^fpr:+([0-9A-F]{40}):/m) ?? [])[1] ?? '';
    expect(gpg(['--quick-add-key', fpr, 'cv25519', 'encr', 'never']).status).toBe(0);
    const armored = gpg(['--armor', '--export', fpr]).stdout.toString();
    const info = await readPublicKey(armored);
    expect(info.fingerprint).toBe(fpr.toLowerCase());
    const sealed = await sealFile({
      data: new Uint8Array([1, 2, 3]),
      authorKey: s.author.privateKey,
      recipientKeys: [armored],
    });
    const out = gpg(['--status-fd', '2', '--decrypt'], sealed.message);
    expect(out.status).toBe(0);
    expect([...unpadFile(out.stdout)]).toEqual([1, 2, 3]);
    const fromGpg = gpg([
      '--armor',
      '--encrypt',
      '--sign',
      '-r',
      s.reader.fingerprint,
      '-u',
      fpr,
      '--output',
      '-',
      dir.file('p.txt', 'hello from gpg'),
    ]);
    const decoded = dearmor(fromGpg.stdout.toString());
    if (!decoded.ok) throw new Error(decoded.detail);
    const result = await openFile({
      message: decoded.bytes,
      myKey: s.reader.privateKey,
      authorPublicKey: armored,
    });
    expect(result.status).toBe('verified');
    if (result.status === 'verified')
      expect(new TextDecoder().decode(result.data)).toBe('hello from gpg');
  });
});
