import { strToU8, zipSync, type Zippable } from 'fflate';

/**
 * The "no lock-in" export (DESIGN §11): every record and attachment as the standard OpenPGP
 * file the server stores, the key pair (private key re-protected under a passphrase the user
 * typed for the export), and a README saying how to open them with GnuPG.
 */
export interface ExportInput {
  user: { name: string; email: string; fingerprint: string };
  publicKey: string;
  /** Locked under the export passphrase with plain iterated S2K (gpg, sq and rnp import it). */
  privateKey: string;
  records: { id: string; version: number; message: string }[];
  attachments: { recordId: string; id: string; bytes: Uint8Array }[];
  exportedAt: Date;
}

export function exportReadme(input: Pick<ExportInput, 'user' | 'exportedAt'>): string {
  return `Medseal export for ${input.user.name} <${input.user.email}>
Exported ${input.exportedAt.toISOString()}
Key fingerprint: ${input.user.fingerprint.toUpperCase()}

Everything here is standard OpenPGP, readable without Medseal.

  keys/public-key.asc     your public key
  keys/private-key.asc    your private key, protected with the passphrase you typed for this export
  records/<id>.asc        each record (current version): a signed, encrypted JSON document
  attachments/<record id>/<attachment id>.gpg   each attached file, encrypted (binary OpenPGP)

Open them with GnuPG (gpg 2.2 or newer):

  gpg --import keys/private-key.asc            # asks for the export passphrase
  gpg --decrypt records/<id>.asc > record.json # prints who signed it
  gpg --decrypt attachments/<record id>/<attachment id>.gpg > file

The record JSON ("content") names each attachment's file name and type under "attachments".
Keep this archive safe: with the passphrase it opens all your records. To remove the key from
GnuPG again: gpg --delete-secret-and-public-keys ${input.user.fingerprint.toUpperCase()}
`;
}

export function buildExportZip(input: ExportInput): Uint8Array {
  const files: Zippable = {
    'README.txt': strToU8(exportReadme(input)),
    keys: {
      'public-key.asc': strToU8(input.publicKey),
      'private-key.asc': strToU8(input.privateKey),
    },
    records: Object.fromEntries(input.records.map((r) => [`${r.id}.asc`, strToU8(r.message)])),
  };
  const byRecord: Record<string, Zippable> = {};
  for (const a of input.attachments) {
    const dir = (byRecord[a.recordId] ??= {});
    // Already encrypted: store without compression.
    dir[`${a.id}.gpg`] = [a.bytes, { level: 0 }];
  }
  files.attachments = byRecord;
  return zipSync(files, { level: 6, mtime: input.exportedAt });
}
