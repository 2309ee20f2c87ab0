import type { TeamState } from '@medseal/crypto';
import type { MyRecordRole } from './actions';
import type { RecordSummary } from './content';
import type { RecordFailure } from './failures';

/**
 * Decrypts list titles progressively (DESIGN §5, issue: "first screen first"): rows in view
 * go to the front of the queue, a few run at once in the worker, and results are cached for
 * the tab's life by record id + version (and the owner and author claimed), so scrolling back
 * or returning to the list costs nothing. A failed or unverifiable record is a result too
 * (shown as a warning row), never a title.
 */
export type SummaryState =
  | { status: 'pending' }
  | VerifiedSummary
  | { status: 'failed'; failure: RecordFailure }
  | { status: 'error'; message: string };

/**
 * `role`: mine on the record (actions.ts), for what the list offers; `author`: whose key the
 * signature verified with, `signedAt` (the author's own date) and `teams` (its care teams'
 * verified states when it was decrypted): what the list judges, against the user's pins and
 * consents as they are at render, to say "key not verified" or "written without your consent".
 */
export interface VerifiedSummary {
  status: 'verified';
  summary: RecordSummary;
  role: MyRecordRole;
  author: SignedBy;
  signedAt: Date;
  teams: readonly TeamState[];
}

/** Who signed a record, by the key its signature verified with. */
export interface SignedBy {
  id: string;
  fingerprint: string;
}

export interface SummaryJob {
  id: string;
  version: number;
  /**
   * Whose record the server says it is and who wrote it. A title was verified for one claim:
   * the same id and version listed again with another owner or author is checked again (and
   * fails), never shown under names the signed envelope does not hold.
   */
  ownerId?: string;
  authorId?: string;
}

export type DecryptSummary<J extends SummaryJob = SummaryJob> = (
  job: J,
) => Promise<Exclude<SummaryState, { status: 'pending' }>>;

export const keyOf = (job: SummaryJob) =>
  `${job.id}@${job.version}@${job.ownerId ?? ''}@${job.authorId ?? ''}`;

/** Results arriving within this window reach the listeners (a list render) together. */
const NOTIFY_EVERY_MS = 50;

export class SummaryLoader<J extends SummaryJob = SummaryJob> {
  private readonly cache = new Map<string, SummaryState>();
  private queue: J[] = [];
  private running = 0;
  private readonly listeners = new Set<() => void>();
  private revision = 0;
  private notifyPending = false;

  constructor(
    private readonly decrypt: DecryptSummary<J>,
    private readonly concurrency = 4,
  ) {}

  get(job: SummaryJob): SummaryState {
    return this.cache.get(keyOf(job)) ?? { status: 'pending' };
  }

  /** Changes whenever a result arrives (for useSyncExternalStore). */
  getRevision = (): number => this.revision;

  subscribe = (listener: () => void): (() => void) => {
    this.listeners.add(listener);
    return () => this.listeners.delete(listener);
  };

  /** Queue every job not yet done; `priority` jobs (the rows on screen) go first. */
  request(all: J[], priority: J[] = []): void {
    const wanted = [...priority, ...all].filter((j) => !this.cache.has(keyOf(j)));
    const seen = new Set<string>();
    this.queue = wanted.filter((j) => {
      const k = keyOf(j);
      if (seen.has(k)) return false;
      seen.add(k);
      return true;
    });
    this.pump();
  }

  /** Forget everything (logout / lock). */
  clear(): void {
    this.cache.clear();
    this.queue = [];
    this.bump();
  }

  /** One notification per window, not per result: 1,000 titles would be 1,000 list renders. */
  private bump() {
    this.revision += 1;
    if (this.notifyPending) return;
    this.notifyPending = true;
    setTimeout(() => {
      this.notifyPending = false;
      for (const l of this.listeners) l();
    }, NOTIFY_EVERY_MS);
  }

  private pump() {
    while (this.running < this.concurrency && this.queue.length > 0) {
      const job = this.queue.shift();
      if (!job || this.cache.has(keyOf(job))) continue;
      this.cache.set(keyOf(job), { status: 'pending' });
      this.running += 1;
      void this.decrypt(job)
        .catch((e: unknown): SummaryState => ({
          status: 'error',
          message: e instanceof Error ? e.message : String(e),
        }))
        .then((result) => {
          this.cache.set(keyOf(job), result);
          this.running -= 1;
          this.bump();
          this.pump();
        });
    }
  }
}
