// RNP 0.16 interop.
import { openFile } from '../../src';
import { makeScenario, PASSPHRASE, run, runOk, TempDir, type Scenario } from './tools';
import { unpadFile } from '../../src/padding';

let s: Scenario;
let dir: TempDir;
let home: string;

beforeAll(async () => {
  s = await makeScenario();
  dir = new TempDir();
  home = dir.file('rnp');
  runOk('mkdir', ['-m', '700', home]);
  for (const [name, key] of [
    ['reader.key', s.readerExported],
    ['author.key', s.authorExported],
  ] as const) {
    runOk('rnpkeys', ['--homedir', home, '--import', dir.file(name, key)]);
  }
});

afterAll(() => dir.remove());

function rnpDecrypt(name: string, message: string | Uint8Array) {
  const input = dir.file(name, message);
  const output = `${input}.out`;
  const out = run('rnp', [
    '--homedir',
    home,
    '--password',
    PASSPHRASE,
    '--notty',
    '--decrypt',
    input,
    '--output',
    output,
    '--overwrite',
  ]);
  return { ...out, plaintext: out.status === 0 ? dir.read(`${name}.out`) : Buffer.alloc(0) };
}

describe('interop: RNP', () => {
  it('when rnp decrypts our record with the exported key, then it reports a good signature by the author', () => {
    const out = rnpDecrypt('record.asc', s.record.message);
    expect(out.status).toBe(0);
    expect(out.stderr).toMatch(/Good signature/i);
    expect(out.stderr.toLowerCase()).toContain(s.author.fingerprint.slice(-16));
    expect(out.plaintext.toString().startsWith(s.record.plaintextPrefix)).toBe(true);
  });

  it('when rnp decrypts our binary attachment, then it verifies and the bytes less our Padmé padding are identical', () => {
    const out = rnpDecrypt('file.gpg', s.attachment.message);
    expect(out.status).toBe(0);
    expect(out.stderr).toMatch(/Good signature/i);
    expect(Buffer.from(unpadFile(out.plaintext)).equals(Buffer.from(s.attachment.data))).toBe(true);
  });

  it('when rnp signs and encrypts for our key, then ours opens it as verified', async () => {
    const input = dir.file('from-rnp.txt', 'hello from rnp');
    const output = `${input}.gpg`;
    runOk('rnp', [
      '--homedir',
      home,
      '--password',
      PASSPHRASE,
      '--notty',
      '-z',
      '0',
      '--encrypt',
      '--sign',
      '-r',
      s.reader.fingerprint,
      '-u',
      s.author.fingerprint,
      input,
      '--output',
      output,
      '--overwrite',
    ]);
    const result = await openFile({
      message: new Uint8Array(dir.read('from-rnp.txt.gpg')),
      myKey: s.reader.privateKey,
      authorPublicKey: s.author.publicKey,
    });
    expect(result.status).toBe('verified');
    if (result.status === 'verified')
      expect(new TextDecoder().decode(result.data)).toBe('hello from rnp');
  });
});
