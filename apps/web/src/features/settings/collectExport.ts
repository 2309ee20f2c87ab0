import { endpoints } from '@medseal/contract';
import { describeFailure } from '../records/failures';
import { fetchAllRecords } from '../records/queries';
import {
  openRecordDto,
  openVersion,
  verifiedAttachmentMessage,
  versionsLeftOut,
  type RecordDeps,
} from '../records/recordService';
import type { ExportAuthor, ExportFile, ExportRecord, ExportVersion } from './exportLayout';

function authorOf(p: {
  id: string;
  name: string;
  fingerprint: string;
  publicKey: string;
}): ExportAuthor {
  return { id: p.id, name: p.name, fingerprint: p.fingerprint, publicKey: p.publicKey };
}

/**
 * Everything the export holds, through the app's own open-and-verify path: each record's
 * current version (openRecordDto, with grants and rollback checks), each earlier version I was
 * a reader of (openVersion), and each file named in a verified version (opened against its
 * signed SHA-256). What does not verify, and versions the server did not list, are left out and
 * named in `omitted`.
 */
export async function collectExport(
  deps: RecordDeps,
  onStatus: (status: string) => void,
): Promise<{ records: ExportRecord[]; omitted: string[] }> {
  onStatus('Collecting your records');
  const dtos = await fetchAllRecords(deps.call);
  const records: ExportRecord[] = [];
  const omitted: string[] = [];
  for (const [i, dto] of dtos.entries()) {
    onStatus(`Checking record ${i + 1} of ${dtos.length}`);
    const current = await openRecordDto(deps, dto);
    if (current.status !== 'verified') {
      omitted.push(`record ${dto.id}: ${describeFailure(current)}`);
      continue;
    }
    const { versions: history } = await deps.call(endpoints.recordHistory, {
      params: { recordId: dto.id },
    });
    // Versions 1 … current, as on the history page.
    const missing = versionsLeftOut(
      history.map((v) => v.version),
      dto.version,
    );
    if (missing > 0)
      omitted.push(
        `“${current.content.title}”: the server left out ${missing} of its ${dto.version} versions.`,
      );
    const versions: ExportVersion[] = [];
    for (const v of history) {
      if (v.version === dto.version) {
        versions.push({
          version: dto.version,
          message: dto.message,
          content: current.content,
          author: authorOf(current.author),
        });
        continue;
      }
      // Whether a version is for me is what opening it says, not the server's reader list: one
      // written before it was shared with me never was (for the owner, every one is: openVersion).
      const opened = await openVersion(deps, dto, v.version);
      if (opened.status === 'not-for-me') continue;
      if (opened.status === 'verified')
        versions.push({
          version: v.version,
          message: opened.message,
          content: opened.content,
          author: authorOf(opened.author),
        });
      else
        omitted.push(`“${current.content.title}” version ${v.version}: ${describeFailure(opened)}`);
    }
    versions.sort((a, b) => a.version - b.version);
    const refs = new Map(
      versions.flatMap((v) => v.content.attachments.map((a) => [a.id, a] as const)),
    );
    const files: ExportFile[] = [];
    for (const ref of refs.values()) {
      try {
        files.push({
          ref,
          bytes: await verifiedAttachmentMessage(
            deps,
            dto.id,
            ref,
            (label) => onStatus(label),
            current.readingKey,
          ),
        });
      } catch (error) {
        omitted.push(
          `“${current.content.title}” file ${ref.name}: ${error instanceof Error ? error.message : 'could not be opened'}`,
        );
      }
    }
    records.push({ id: dto.id, versions, files });
  }
  return { records, omitted };
}
