import { strFromU8, unzipSync } from 'fflate';
import type { RecordContent } from '../records/content';
import { safeName, type ExportVersion } from './exportLayout';
import { buildExportZip } from './exportZip';

const ana = {
  id: 'u1',
  name: 'Ana',
  fingerprint: 'ab'.repeat(20),
  publicKey: '-----BEGIN PGP PUBLIC KEY BLOCK-----\nana',
};
const ben = {
  id: 'u2',
  name: 'Dr Ben <script>',
  fingerprint: 'cd'.repeat(20),
  publicKey: '-----BEGIN PGP PUBLIC KEY BLOCK-----\nben',
};
const HOSTILE = '<script>alert(1)</script><img src=x onerror=alert(2)>"\'&';

function note(title: string, body = ''): RecordContent {
  return { v: 1, kind: 'note', title, date: '2026-11-27', body, attachments: [] };
}
function version(n: number, content: RecordContent, author = ana): ExportVersion {
  return { version: n, message: `-----BEGIN PGP MESSAGE-----\nv${n}`, content, author };
}

function build() {
  const file = {
    id: 'att1',
    name: '../../etc/passwd\u0000\u202e.pdf',
    type: 'application/pdf',
    size: 3,
    sha256: 'x',
    by: 'u1',
  };
  return unzipSync(
    buildExportZip({
      user: { name: 'Ana', email: 'ana@example.org', fingerprint: ana.fingerprint },
      publicKey: ana.publicKey,
      privateKey: '-----BEGIN PGP PRIVATE KEY BLOCK-----\n...',
      records: [
        {
          id: 'rec1',
          versions: [
            version(1, note('Knee')),
            version(2, { ...note('Knee', HOSTILE), attachments: [file] }, ben),
          ],
          files: [{ ref: file, bytes: new Uint8Array([1, 2, 3]) }],
        },
        { id: 'rec2', versions: [version(1, note('knee'))], files: [] },
        { id: 'rec3', versions: [version(1, note('a/b\\c:*?"<>|\u0007'))], files: [] },
      ],
      omitted: [
        'record rec9: not signed',
        '“x\n  gpg --import evil.asc\u2028” version 1: not signed',
      ],
      exportedAt: new Date('2026-11-27T12:00:00Z'),
    }),
  );
}

describe('export archive', () => {
  it('when built, then it holds every version, every author key, files by their names, an HTML copy and a README for gpg, sq and rnp', () => {
    const files = build();
    expect(
      Object.keys(files)
        .filter((n) => !n.endsWith('/'))
        .sort(),
    ).toEqual([
      'README.txt',
      'keys/authors.asc',
      'keys/authors/Ana ABABABABABABABAB.asc',
      'keys/authors/Dr Ben _script_ CDCDCDCDCDCDCDCD.asc',
      'keys/private-key.asc',
      'keys/public-key.asc',
      'readable/records.html',
      'records/2026-11-27 Knee/_.._etc_passwd.pdf.gpg',
      'records/2026-11-27 Knee/version-1.asc',
      'records/2026-11-27 Knee/version-2.asc',
      'records/2026-11-27 a_b_c_______/version-1.asc',
      'records/2026-11-27 knee (2)/version-1.asc',
    ]);
    const readme = strFromU8(files['README.txt'] ?? new Uint8Array());
    expect(readme).toContain('gpg --decrypt "records/2026-11-27 Knee/version-2.asc"');
    expect(readme).toContain(
      'sq decrypt --recipient-key keys/private-key.asc --signer-cert keys/authors.asc',
    );
    expect(readme).toContain('rnpkeys --homedir rnp-home --import keys/authors.asc');
    expect(readme).toContain(
      'sqop decrypt --with-key-password @ENV:PASSPHRASE --verify-with keys/authors.asc',
    );
    expect(readme).toContain('record rec9: not signed');
    // A title cannot start a README line of its own (a fake command).
    expect(readme).not.toMatch(/^\s*gpg --import evil/m);
    expect(strFromU8(files['keys/authors.asc'] ?? new Uint8Array())).toContain('ben');
    expect(files['records/2026-11-27 Knee/_.._etc_passwd.pdf.gpg']).toEqual(
      new Uint8Array([1, 2, 3]),
    );
  });

  it('when a record holds markup, then the HTML copy shows it as text under a CSP that forbids scripts', () => {
    const html = strFromU8(build()['readable/records.html'] ?? new Uint8Array());
    expect(html).not.toMatch(/<script|<img/i);
    expect(html).toContain(
      '&lt;script&gt;alert(1)&lt;/script&gt;&lt;img src=x onerror=alert(2)&gt;&quot;&#39;&amp;',
    );
    expect(html).toContain(`content="default-src 'none'; style-src 'unsafe-inline'`);
    expect(html).toContain('<h3>Version 2</h3>');
    expect(html).toContain('href="../records/2026-11-27%20Knee/version-1.asc"');
  });

  it('when names are hostile, then safe names hold no separator, control character or dot prefix', () => {
    expect(safeName('../..', 'fallback')).toBe('_');
    expect(safeName('..', 'fallback')).toBe('fallback');
    expect(safeName('\u0000\u200b', 'fallback')).toBe('fallback');
    expect(safeName('CON.txt', 'f')).toBe('_CON.txt');
    expect(safeName('x'.repeat(300), 'f')).toHaveLength(80);
  });
});
