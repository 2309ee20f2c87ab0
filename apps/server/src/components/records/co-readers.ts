import { findByIds } from '../../lib/store';
import type { Services } from '../../services';

/**
 * Everyone who reads a record `userId` reads (shared with her, or she with them: owner, author
 * and grantees are all readers) — the directory's "connected" people (issue 15, finding 1).
 * The records she reads are those her listing feed names (feed.ts), read by `_id` (DESIGN §9):
 * a filter on `readerIds` loaded every record of every user on FerretDB v1. The feed also
 * names records she no longer reads (an entry is never removed), so each is checked.
 */
export async function coReadersOf(s: Services, userId: string): Promise<Set<string>> {
  const head = await s.listing.head(userId);
  const entries = await s.listing.window(userId, head + 1, head);
  const records = await findByIds(
    s.models.records,
    entries.map((e) => e.recordId),
    ['readerIds'],
  );
  const people = new Set<string>();
  for (const r of records.values()) {
    if (!r.readerIds.includes(userId)) continue;
    for (const id of r.readerIds) if (id !== userId) people.add(id);
  }
  return people;
}
