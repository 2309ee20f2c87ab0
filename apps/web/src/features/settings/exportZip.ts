import { strToU8, zipSync, type Zippable } from 'fflate';
import { exportHtml } from './exportHtml';
import {
  layoutOf,
  oneLine,
  safeName,
  type ExportAuthor,
  type ExportRecord,
  type RecordLayout,
} from './exportLayout';

/**
 * The "no lock-in" export (DESIGN §11, docs/decisions.md "Export that stands alone"): every
 * version of every record and every file as the standard OpenPGP file the server stores, named
 * by its title or file name; the public key of everyone who signed one; the key pair (private
 * key re-protected under a passphrase typed for the export); a static HTML copy; and a README
 * whose commands work as written with gpg, sq, rnp and sqop. Only what verified goes in.
 */
export interface ExportInput {
  user: { name: string; email: string; fingerprint: string };
  publicKey: string;
  /** Locked under the export passphrase with plain iterated S2K (gpg, sq and rnp import it). */
  privateKey: string;
  records: ExportRecord[];
  /** What did not verify and was left out, in plain words (listed in the README). */
  omitted: string[];
  exportedAt: Date;
}

/** Every distinct signer, by fingerprint. */
export function authorsOf(records: readonly ExportRecord[]): ExportAuthor[] {
  const byFingerprint = new Map<string, ExportAuthor>();
  for (const r of records)
    for (const v of r.versions) byFingerprint.set(v.author.fingerprint.toUpperCase(), v.author);
  return [...byFingerprint.values()];
}

export function authorKeyFile(author: ExportAuthor): string {
  return `${safeName(author.name, 'author')} ${author.fingerprint.toUpperCase().slice(-16)}.asc`;
}

export function exportReadme(
  input: Pick<ExportInput, 'user' | 'exportedAt' | 'omitted'> & {
    layout: RecordLayout[];
    authors: ExportAuthor[];
  },
): string {
  const fpr = input.user.fingerprint.toUpperCase();
  const first = input.layout.find((l) => l.versionFiles.length > 0);
  const example = first
    ? `records/${first.folder}/${first.versionFiles[first.versionFiles.length - 1]}`
    : 'records/<record>/version-1.asc';
  const withFile = input.layout.find((l) => l.fileNames.length > 0);
  const exampleFile = withFile
    ? `records/${withFile.folder}/${withFile.fileNames[0]}`
    : 'records/<record>/<file name>.gpg';
  const q = (path: string) => `"${path.replace(/(["\\$`])/g, '\\$1')}"`;
  const authors = input.authors
    .map((a) => `  ${a.fingerprint.toUpperCase()}  ${oneLine(a.name)}`)
    .join('\n');
  const omitted = input.omitted.length
    ? `\nLeft out because they did not pass Medseal's checks:\n${input.omitted.map((o) => `  - ${oneLine(o)}`).join('\n')}\n`
    : '';
  return `Medseal export for ${oneLine(input.user.name)} <${oneLine(input.user.email)}>
Exported ${input.exportedAt.toISOString()}
Your key fingerprint: ${fpr}

Everything here is standard OpenPGP, readable without Medseal. Only what Medseal verified
(signature, author's key, record id and version) is in it.

  readable/records.html          all records, every version, as a plain web page (no scripts)
  keys/public-key.asc            your public key
  keys/private-key.asc           your private key, protected with the passphrase you typed for this export
  keys/authors.asc               the public key of everyone who signed a record here (also one file each in keys/authors/)
  records/<date title>/version-<n>.asc   each version of each record: a signed, encrypted JSON document
  records/<date title>/<file name>.gpg   each attached file, encrypted (binary OpenPGP)

Who signed the records (fingerprint, name as Medseal verified it):
${authors || '  (no records)'}
${omitted}
Pick one of the tools and run its commands in this folder (the folder of this README).
The record and file shown are examples; any other works the same way.

GnuPG (gpg 2.2 or newer):

  gpg --import keys/private-key.asc keys/authors.asc      # asks for the export passphrase
  gpg --decrypt ${q(example)}                 # prints the record and "Good signature from ..."
  gpg --output file --decrypt ${q(exampleFile)}      # writes the file as "file"

Sequoia (sq 0.27 or newer):

  sq decrypt --recipient-key keys/private-key.asc --signer-cert keys/authors.asc ${q(example)}
  sq decrypt --recipient-key keys/private-key.asc --signer-cert keys/authors.asc --output file ${q(exampleFile)}

RNP (rnp 0.16 or newer):

  mkdir rnp-home
  rnpkeys --homedir rnp-home --import keys/private-key.asc
  rnpkeys --homedir rnp-home --import keys/authors.asc
  rnp --homedir rnp-home --decrypt ${q(example)} --output -   # asks for the export passphrase
  rnp --homedir rnp-home --decrypt ${q(exampleFile)} --output file

SOP (sqop 0.27 or another Stateless OpenPGP tool; first put the export passphrase in PASSPHRASE):

  sqop decrypt --with-key-password @ENV:PASSPHRASE --verify-with keys/authors.asc --verifications-out signed-by.txt keys/private-key.asc < ${q(example)}
  sqop decrypt --with-key-password @ENV:PASSPHRASE --verify-with keys/authors.asc --verifications-out file-signed-by.txt keys/private-key.asc < ${q(exampleFile)} > file

Each command checks the author's signature: gpg and rnp print who signed, sqop writes the
signer's fingerprint to signed-by.txt (file-signed-by.txt), and sq and sqop refuse a message whose signature does
not verify against keys/authors.asc. Compare the fingerprints above with
the ones your doctors gave you. The record JSON ("content") names each file under "attachments".

Keep this archive safe: readable/records.html holds your records unencrypted, and with the
passphrase the private key opens everything. To remove your key from GnuPG again:
  gpg --delete-secret-and-public-keys ${fpr}
`;
}

export function buildExportZip(input: ExportInput): Uint8Array {
  const layout = layoutOf(input.records);
  const authors = authorsOf(input.records);
  const records: Zippable = {};
  for (const l of layout) {
    const folder: Zippable = {};
    l.record.versions.forEach((v, i) => (folder[l.versionFiles[i] ?? ''] = strToU8(v.message)));
    // Already encrypted: store without compression.
    l.record.files.forEach((f, i) => (folder[l.fileNames[i] ?? ''] = [f.bytes, { level: 0 }]));
    records[l.folder] = folder;
  }
  const files: Zippable = {
    'README.txt': strToU8(exportReadme({ ...input, layout, authors })),
    readable: {
      'records.html': strToU8(
        exportHtml({ user: input.user, exportedAt: input.exportedAt, layout }),
      ),
    },
    keys: {
      'public-key.asc': strToU8(input.publicKey),
      'private-key.asc': strToU8(input.privateKey),
      'authors.asc': strToU8(authors.map((a) => a.publicKey.trim()).join('\n') + '\n'),
      authors: Object.fromEntries(authors.map((a) => [authorKeyFile(a), strToU8(a.publicKey)])),
    },
    records,
  };
  return zipSync(files, { level: 6, mtime: input.exportedAt });
}
