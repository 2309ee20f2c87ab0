import type { AttachmentRef, RecordContent } from '../records/content';

/** What the export holds and where each record and file goes in the archive (./exportZip.ts packs it). */
export interface ExportAuthor {
  id: string;
  name: string;
  fingerprint: string;
  publicKey: string;
}

export interface ExportVersion {
  version: number;
  /** The armored OpenPGP message exactly as it verified. */
  message: string;
  content: RecordContent;
  author: ExportAuthor;
}

export interface ExportFile {
  ref: AttachmentRef;
  /** The binary OpenPGP message exactly as it verified against the signed SHA-256. */
  bytes: Uint8Array;
}

export interface ExportRecord {
  id: string;
  /** Oldest first. */
  versions: ExportVersion[];
  files: ExportFile[];
}

const MAX_NAME = 80;
// Control, invisible format (e.g. U+202E) and line/paragraph separator characters.
const INVISIBLE = /[\p{Cc}\p{Cf}\p{Zl}\p{Zp}]/gu;

/** Attacker-chosen text on one README line: no line breaks or invisible characters that could fake a command. */
export function oneLine(text: string): string {
  return text.replace(INVISIBLE, ' ');
}
// Names Windows refuses for a file whatever its extension.
const RESERVED = /^(con|prn|aux|nul|com\d|lpt\d)$/i;

/**
 * A file or folder name safe on every system for attacker-chosen text: no path separators, no
 * control or invisible format characters, none of Windows' forbidden characters, no leading dot
 * (hidden file, `..`), no reserved device name, at most MAX_NAME characters.
 */
export function safeName(raw: string, fallback: string): string {
  let name = raw
    .normalize('NFC')
    .replace(INVISIBLE, '')
    .replace(/[/\\:*?"<>|]/g, '_')
    .replace(/\s+/g, ' ')
    .trim()
    .replace(/^[.\s]+/, '')
    .replace(/[.\s]+$/, '');
  name = [...name].slice(0, MAX_NAME).join('').trim();
  if (!name) return fallback;
  return RESERVED.test(name.split('.')[0] ?? '') ? `_${name}` : name;
}

/** Hands out names unique within one folder (case-insensitively, as macOS and Windows compare): "x", "x (2)", … */
export class NameSpace {
  private readonly taken = new Set<string>();
  claim(name: string, ext = ''): string {
    for (let n = 1; ; n++) {
      const candidate = `${name}${n === 1 ? '' : ` (${n})`}${ext}`;
      const key = candidate.toLowerCase();
      if (!this.taken.has(key)) {
        this.taken.add(key);
        return candidate;
      }
    }
  }
}

/** Where each record and file goes in the archive; computed once, used by the zip and the HTML copy. */
export interface RecordLayout {
  record: ExportRecord;
  folder: string;
  versionFiles: string[];
  fileNames: string[];
}

export function layoutOf(records: readonly ExportRecord[]): RecordLayout[] {
  const folders = new NameSpace();
  return records.map((record) => {
    const latest = record.versions[record.versions.length - 1];
    const title = latest ? `${latest.content.date} ${latest.content.title}` : record.id;
    const folder = folders.claim(safeName(title, `record-${record.id.slice(0, 12)}`));
    // Taken inside the folder: the version files, then each file's own name plus ".gpg".
    const inFolder = new NameSpace();
    const versionFiles = record.versions.map((v) => inFolder.claim(`version-${v.version}`, '.asc'));
    const fileNames = record.files.map((f) =>
      inFolder.claim(safeName(f.ref.name, `file-${f.ref.id.slice(0, 12)}`), '.gpg'),
    );
    return { record, folder, versionFiles, fileNames };
  });
}
