import MiniSearch from 'minisearch';

/**
 * One decrypted, verified record as the search sees it (issue 14: title, body, kind, date).
 * Built in this browser only; the index lives in the search worker's memory and is never
 * stored or sent anywhere (docs/decisions.md, "Search").
 */
export interface SearchDoc {
  id: string;
  title: string;
  /** The body and the kind's own fields (lab values, drug, dose, addressee). */
  body: string;
  /** The kind's label and its id ("Lab result lab"). */
  kind: string;
  /** The clinical date as typed (2026-11-27) and as read here ("27 November 2026"). */
  date: string;
}

/** Whole words count more in the title than in the body; a typo is forgiven in long words only. */
const OPTIONS = {
  fields: ['title', 'body', 'kind', 'date'],
  searchOptions: {
    boost: { title: 3, kind: 2 },
    prefix: true,
    fuzzy: (term: string) => (term.length >= 5 ? 0.2 : false),
    combineWith: 'AND',
  },
} as const;

/**
 * The full-text index of my records (MiniSearch). Plain class, so tests use it in-process;
 * the app runs it in its own worker (`searchWorker.ts`), off the page's thread.
 */
export class RecordSearchIndex {
  private readonly index = new MiniSearch<SearchDoc>({ ...OPTIONS, fields: [...OPTIONS.fields] });

  /** Adds records, or replaces what a record said before (a new version). */
  put(docs: readonly SearchDoc[]): void {
    for (const doc of docs) {
      if (this.index.has(doc.id)) this.index.replace(doc);
      else this.index.add(doc);
    }
  }

  /** Forgets records (one that no longer verifies must not be found by its old words). */
  remove(ids: readonly string[]): void {
    for (const id of ids) if (this.index.has(id)) this.index.discard(id);
  }

  /** Ids of the records matching every word of `query`, best first; none for an empty query. */
  search(query: string): string[] {
    if (!query.trim()) return [];
    return this.index.search(query).map((r) => String(r.id));
  }

  get size(): number {
    return this.index.documentCount;
  }
}
