import { strFromU8, unzipSync } from 'fflate';
import { buildExportZip } from './exportZip';

describe('export archive', () => {
  it('when built, then it holds the keys, one file per record and attachment, and a gpg README', () => {
    const zip = buildExportZip({
      user: { name: 'Ana', email: 'ana@example.org', fingerprint: 'ab'.repeat(20) },
      publicKey: '-----BEGIN PGP PUBLIC KEY BLOCK-----\n...',
      privateKey: '-----BEGIN PGP PRIVATE KEY BLOCK-----\n...',
      records: [{ id: 'rec1', version: 2, message: '-----BEGIN PGP MESSAGE-----\n...' }],
      attachments: [{ recordId: 'rec1', id: 'att1', bytes: new Uint8Array([1, 2, 3]) }],
      exportedAt: new Date('2026-11-27T12:00:00Z'),
    });
    const files = unzipSync(zip);
    expect(Object.keys(files).filter((n) => !n.endsWith('/')).sort()).toEqual(['README.txt', 'attachments/rec1/att1.gpg', 'keys/private-key.asc', 'keys/public-key.asc', 'records/rec1.asc']);
    expect(strFromU8(files['README.txt'] ?? new Uint8Array())).toContain('gpg --decrypt records/<id>.asc');
    expect(files['attachments/rec1/att1.gpg']).toEqual(new Uint8Array([1, 2, 3]));
  });
});
