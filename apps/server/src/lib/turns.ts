/**
 * Runs the tasks given under one key one after the other, in the order they were given,
 * within this process (a task starts once the one before it settled, whatever its outcome).
 * Writers of one document in one process wait their turn here instead of racing for its claim
 * (lib/claims.ts), where the one that just finished could keep taking it back and a writer
 * retrying at random could lose every time until it gave up (CI, 2026-12-07). Claims still
 * order the writers of different processes.
 */
export class Turns {
  /** Per key, the end of the last task given: the next one starts after it. */
  private readonly ends = new Map<string, Promise<void>>();

  run<T>(key: string, task: () => Promise<T>): Promise<T> {
    const result = (this.ends.get(key) ?? Promise.resolve()).then(task);
    const end = result.then(
      () => undefined,
      () => undefined,
    );
    this.ends.set(key, end);
    void end.then(() => {
      if (this.ends.get(key) === end) this.ends.delete(key);
    });
    return result;
  }
}
