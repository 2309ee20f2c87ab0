/** An item waiting for its round; settled by the round that writes it, or failed with one. */
export interface Waiting {
  reject(error: unknown): void;
}

/**
 * Group commit's queue: items given while a round is being written go together into the next
 * one, so a burst costs a few writes instead of one each. A round takes the items in the order
 * they were given, up to `limits.count` of them and, past the first, up to `limits.weight` in
 * all. The round settles its items (it may give some back, `give`, for the next round). A round
 * that throws fails its items and those waiting for the next one: the database has just
 * failed, and a round of their own would make them wait for a second timeout.
 */
export class GroupCommit<W extends Waiting> {
  private queue: W[] = [];
  private writing = false;

  constructor(
    private readonly round: (batch: W[]) => Promise<void>,
    private readonly limits: { count: number; weight?: number; weigh?: (item: W) => number },
    /** Called before the failed items are rejected (to forget what they assumed). */
    private readonly onFailed?: (failed: W[]) => void,
  ) {}

  /**
   * Queues one item per input, made by `wait` with the functions that settle it; settles with
   * every input's outcome, in input order, or fails with the first failure.
   */
  submit<T, R>(
    inputs: readonly T[],
    wait: (input: T, resolve: (outcome: R) => void, reject: (error: unknown) => void) => W,
  ): Promise<R[]> {
    const items: W[] = [];
    const settled = Promise.all(
      inputs.map(
        (input) => new Promise<R>((resolve, reject) => items.push(wait(input, resolve, reject))),
      ),
    );
    this.give(items);
    return settled;
  }

  /** Queues the items for the next round (also from within a round: they go into the one after). */
  give(items: readonly W[]): void {
    this.queue.push(...items);
    if (!this.writing) void this.writeAll();
  }

  private async writeAll(): Promise<void> {
    this.writing = true;
    try {
      while (this.queue.length > 0) {
        const batch = this.queue.splice(0, this.roundSize());
        try {
          await this.round(batch);
        } catch (error) {
          const failed = [...batch, ...this.queue.splice(0)];
          this.onFailed?.(failed);
          for (const w of failed) w.reject(error);
        }
      }
    } finally {
      this.writing = false;
    }
  }

  /** How many of the queue's first items the next round takes (at least one). */
  private roundSize(): number {
    const { count, weight = Infinity, weigh } = this.limits;
    let size = 0;
    let total = 0;
    for (const item of this.queue) {
      if (size === count) break;
      total += weigh?.(item) ?? 0;
      if (size > 0 && total > weight) break;
      size++;
    }
    return size;
  }
}
