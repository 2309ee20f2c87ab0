import type { Services } from '../../services';

/**
 * Everyone who reads a record `userId` reads (shared with her, or she with them: owner, author
 * and grantees are all readers) — the directory's "connected" people (issue 15, finding 1).
 */
export async function coReadersOf(s: Services, userId: string): Promise<Set<string>> {
  const records = await s.models.records.find({ readerIds: userId }, { readerIds: 1 }).lean();
  const people = new Set<string>();
  for (const r of records) for (const id of r.readerIds) if (id !== userId) people.add(id);
  return people;
}
