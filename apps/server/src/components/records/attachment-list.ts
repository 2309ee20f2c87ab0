import type { Logger } from 'pino';
import { isDuplicateKey } from '../../lib/db';
import { chainEnd, chainId, chainIds, findByIds } from '../../lib/store';
import type { Models } from '../../services';
import type { AttachmentDoc } from './model';

type LinkModels = Pick<Models, 'attachments' | 'attachmentLinks'>;

/** Tries before an upload gives up on a record whose chain other uploads keep extending. */
const MAX_LINK_TRIES = 20;

/** The seq of the record's last attachment link (0: none), by `_id` lookups (lib/store.ts). */
async function lastLink(models: LinkModels, recordId: string, known = 0): Promise<number> {
  const end = await chainEnd(async (seq) => ((await models.attachmentLinks.exists({ _id: chainId(recordId, seq) })) ? true : undefined), { seq: known, value: true });
  return end.seq;
}

/**
 * Appends a link naming `attachmentId` to the record's chain: an insert of the next free `_id`,
 * atomic on FerretDB v1 and MongoDB; a concurrent upload that took the seq makes us take the next.
 */
export async function linkAttachment(models: LinkModels, recordId: string, attachmentId: string): Promise<void> {
  let seq = await lastLink(models, recordId);
  for (let tries = 0; ; tries++) {
    try {
      await models.attachmentLinks.create({ _id: chainId(recordId, seq + 1), recordId, attachmentId });
      return;
    } catch (error) {
      if (!isDuplicateKey(error) || tries >= MAX_LINK_TRIES) throw error;
      seq = await lastLink(models, recordId, seq + 1);
    }
  }
}

/** The record's attachments, oldest first: its links, then the attachments they name, by `_id`. */
export async function listAttachments(models: LinkModels, recordId: string): Promise<AttachmentDoc[]> {
  const links = await findByIds(models.attachmentLinks, chainIds(recordId, 1, await lastLink(models, recordId)));
  const ids = [...links.values()].map((l) => l.attachmentId);
  const found = await findByIds(models.attachments, ids);
  // An attachment of another record is never listed, whatever a link says.
  return [...found.values()].filter((a) => a.recordId === recordId).sort((a, b) => a.createdAt.getTime() - b.createdAt.getTime() || a._id.localeCompare(b._id));
}

/**
 * Migration 'attachment-links-1': links every stored attachment to its record's chain (attachments
 * were found by `recordId` before). Idempotent: an attachment a link names already is skipped;
 * a run that dies half-way may leave a link twice, which listing reads once.
 */
export async function migrateAttachmentLinks(models: LinkModels, logger: Logger): Promise<void> {
  let linked = 0;
  const byRecord = new Map<string, string[]>();
  for await (const a of models.attachments.find({}, { _id: 1, recordId: 1, createdAt: 1 }).sort({ createdAt: 1 }).lean().cursor()) {
    byRecord.set(a.recordId, [...(byRecord.get(a.recordId) ?? []), a._id]);
  }
  for (const [recordId, attachmentIds] of byRecord) {
    const links = await findByIds(models.attachmentLinks, chainIds(recordId, 1, await lastLink(models, recordId)));
    const named = new Set([...links.values()].map((l) => l.attachmentId));
    for (const id of attachmentIds.filter((x) => !named.has(x))) {
      await linkAttachment(models, recordId, id);
      linked++;
    }
  }
  logger.info({ linked, records: byRecord.size }, 'attachment links migrated');
}
