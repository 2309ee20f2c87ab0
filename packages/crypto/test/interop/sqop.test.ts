// Sequoia sqop 0.27 interop (Stateless OpenPGP CLI).
import { openFile } from '../../src';
import { dearmor } from '../../src/inspect/armor';
import { makeScenario, PASSPHRASE, run, TempDir, type Scenario } from './tools';
import { unpadFile } from '../../src/padding';

let s: Scenario;
let dir: TempDir;
const f: Record<string, string> = {};

beforeAll(async () => {
  s = await makeScenario();
  dir = new TempDir();
  f.readerKey = dir.file('reader.key', s.readerExported);
  f.authorKey = dir.file('author.key', s.authorExported);
  f.readerCert = dir.file('reader.cert', s.reader.publicKey);
  f.authorCert = dir.file('author.cert', s.author.publicKey);
  f.password = dir.file('password.txt', PASSPHRASE);
});

afterAll(() => dir.remove());

function sqopDecrypt(message: string | Uint8Array) {
  const verifications = dir.file(`ver-${Math.random().toString(36).slice(2)}.txt`);
  const out = run(
    'sqop',
    [
      'decrypt',
      '--verify-with',
      f.authorCert ?? '',
      '--verifications-out',
      verifications,
      '--with-key-password',
      f.password ?? '',
      f.readerKey ?? '',
    ],
    { input: message },
  );
  return {
    ...out,
    verifications:
      out.status === 0 ? dir.read(verifications.split('/').pop() ?? '').toString() : '',
  };
}

describe('interop: sqop (Sequoia)', () => {
  it('when sqop decrypts our record with the exported key, then the author signature verifies and the envelope comes out', () => {
    const out = sqopDecrypt(s.record.message);
    expect(out.stderr).toBe('');
    expect(out.status).toBe(0);
    expect(out.verifications).toContain(s.author.fingerprint.toUpperCase());
    expect(out.stdout.toString().startsWith(s.record.plaintextPrefix)).toBe(true);
  });

  it('when sqop decrypts our binary attachment, then it verifies and the bytes less our Padmé padding are identical', () => {
    const out = sqopDecrypt(s.attachment.message);
    expect(out.status).toBe(0);
    expect(out.verifications).toContain(s.author.fingerprint.toUpperCase());
    expect(Buffer.from(unpadFile(out.stdout)).equals(Buffer.from(s.attachment.data))).toBe(true);
  });

  it('when sqop signs and encrypts for our key (armored and binary), then ours opens it as verified', async () => {
    for (const armor of [true, false]) {
      const out = run(
        'sqop',
        [
          'encrypt',
          ...(armor ? [] : ['--no-armor']),
          '--sign-with',
          f.authorKey ?? '',
          '--with-key-password',
          f.password ?? '',
          f.readerCert ?? '',
        ],
        {
          input: 'hello from sqop',
        },
      );
      expect(out.status).toBe(0);
      let bytes: Uint8Array = new Uint8Array(out.stdout);
      if (armor) {
        const d = dearmor(out.stdout.toString());
        if (!d.ok) throw new Error(d.detail);
        bytes = d.bytes;
      }
      const result = await openFile({
        message: bytes,
        myKey: s.reader.privateKey,
        authorPublicKey: s.author.publicKey,
      });
      expect(result.status).toBe('verified');
      if (result.status === 'verified')
        expect(new TextDecoder().decode(result.data)).toBe('hello from sqop');
    }
  });
});
