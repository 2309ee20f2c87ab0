import type { Logger } from 'pino';
import { isDuplicateKey } from '../../lib/db';
import { chainEnd, chainId, chainIds, deleteByIds, findByIds } from '../../lib/store';
import type { Models } from '../../services';
import { storedChunkIds, type AttachmentDoc } from './model';

type LinkModels = Pick<Models, 'attachments' | 'attachmentLinks'>;

/** Tries before an upload gives up on a record whose chain other uploads keep extending. */
const MAX_LINK_TRIES = 20;

/** The seq of the record's last attachment link (0: none), by `_id` lookups (lib/store.ts). */
async function lastLink(models: LinkModels, recordId: string, known = 0): Promise<number> {
  const end = await chainEnd(
    async (seq) =>
      (await models.attachmentLinks.exists({ _id: chainId(recordId, seq) })) ? true : undefined,
    { seq: known, value: true },
  );
  return end.seq;
}

/**
 * Appends a link naming `attachmentId` to the record's chain: an insert of the next free `_id`,
 * atomic on FerretDB v1 and MongoDB; a concurrent upload that took the seq makes us take the next.
 */
export async function linkAttachment(
  models: LinkModels,
  recordId: string,
  attachmentId: string,
): Promise<void> {
  let seq = await lastLink(models, recordId);
  for (let tries = 0; ; tries++) {
    try {
      await models.attachmentLinks.create({
        _id: chainId(recordId, seq + 1),
        recordId,
        attachmentId,
      });
      return;
    } catch (error) {
      if (!isDuplicateKey(error) || tries >= MAX_LINK_TRIES) throw error;
      seq = await lastLink(models, recordId, seq + 1);
    }
  }
}

/** Links read per record and round (most records have none or a few). */
const LINK_WINDOW = 8;

/**
 * The attachment ids each record's links name, in link order: the next LINK_WINDOW links of
 * every record still going, in one `_id $in` per round (a chain has no gaps), so a page of 50
 * records costs one query, not 50 searches of their chains' ends (issue 11: a list's many
 * lookups at once queued for the driver's pool under load and ran into the operation timeout).
 */
async function linksOf(
  models: LinkModels,
  recordIds: readonly string[],
): Promise<Map<string, string[]>> {
  const links = new Map<string, string[]>(recordIds.map((id) => [id, []]));
  let going = [...links.keys()];
  for (let from = 1; going.length > 0; from += LINK_WINDOW) {
    const found = await findByIds(
      models.attachmentLinks,
      going.flatMap((id) => chainIds(id, from, from + LINK_WINDOW - 1)),
    );
    going = going.filter((id) => {
      const named = links.get(id) ?? [];
      for (let seq = from; seq < from + LINK_WINDOW; seq++) {
        const link = found.get(chainId(id, seq));
        if (!link) return false;
        named.push(link.attachmentId);
      }
      return true;
    });
  }
  return links;
}

/** The attachments the ids name that belong to `recordId`, once each. */
function ofRecord(
  found: Map<string, AttachmentDoc>,
  recordId: string,
  ids: readonly string[],
): AttachmentDoc[] {
  // An attachment of another record is never listed, whatever a link says.
  return [...new Set(ids)].flatMap((id) => {
    const a = found.get(id);
    return a?.recordId === recordId ? [a] : [];
  });
}

/**
 * Each record's attachments, oldest first: the records' links, then the attachments they
 * name, by `_id`, a few queries for all the records together.
 */
export async function listAttachmentsOfMany(
  models: LinkModels,
  recordIds: readonly string[],
): Promise<Map<string, AttachmentDoc[]>> {
  const links = await linksOf(models, recordIds);
  const found = await findByIds(models.attachments, [...links.values()].flat());
  const oldestFirst = (a: AttachmentDoc, b: AttachmentDoc) =>
    a.createdAt.getTime() - b.createdAt.getTime() || a._id.localeCompare(b._id);
  return new Map(
    [...links].map(([recordId, ids]) => [
      recordId,
      ofRecord(found, recordId, ids).sort(oldestFirst),
    ]),
  );
}

/** The record's attachments, oldest first (listAttachmentsOfMany). */
export async function listAttachments(
  models: LinkModels,
  recordId: string,
): Promise<AttachmentDoc[]> {
  return (await listAttachmentsOfMany(models, [recordId])).get(recordId) ?? [];
}

/**
 * Deletes the record's attachments, their chunks and its links (a record delete), by `_id`:
 * a filter on `recordId` loaded every chunk of every file on FerretDB v1. Links go last, so a
 * delete that stops half-way is finished by the next one.
 */
export async function deleteRecordAttachments(
  models: LinkModels & Pick<Models, 'chunks'>,
  recordId: string,
): Promise<void> {
  const ids = (await linksOf(models, [recordId])).get(recordId) ?? [];
  const attachments = ofRecord(await findByIds(models.attachments, ids), recordId, ids);
  await deleteByIds(models.chunks, attachments.flatMap(storedChunkIds));
  await deleteByIds(
    models.attachments,
    attachments.map((a) => a._id),
  );
  await deleteByIds(models.attachmentLinks, chainIds(recordId, 1, ids.length));
}

/**
 * Migration 'attachment-links-1': links every stored attachment to its record's chain (attachments
 * were found by `recordId` before). Idempotent: an attachment a link names already is skipped;
 * a run that dies half-way may leave a link twice, which listing reads once.
 */
export async function migrateAttachmentLinks(models: LinkModels, logger: Logger): Promise<void> {
  let linked = 0;
  const byRecord = new Map<string, string[]>();
  for await (const a of models.attachments
    .find({}, { _id: 1, recordId: 1, createdAt: 1 })
    .sort({ createdAt: 1 })
    .lean()
    .cursor()) {
    byRecord.set(a.recordId, [...(byRecord.get(a.recordId) ?? []), a._id]);
  }
  for (const [recordId, attachmentIds] of byRecord) {
    const links = await findByIds(
      models.attachmentLinks,
      chainIds(recordId, 1, await lastLink(models, recordId)),
    );
    const named = new Set([...links.values()].map((l) => l.attachmentId));
    for (const id of attachmentIds.filter((x) => !named.has(x))) {
      await linkAttachment(models, recordId, id);
      linked++;
    }
  }
  logger.info({ linked, records: byRecord.size }, 'attachment links migrated');
}
