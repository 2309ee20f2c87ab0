/**
 * Reads that callers asking at once share, without any of them getting an answer read before
 * it asked: one read per key runs at a time; a call that finds one running waits for the next
 * one, which every call arriving meanwhile shares (the running one started before the call,
 * and may miss a write stored just before it). Many calls at once thus cost two reads, not one
 * each. A read that fails fails the calls waiting for the next one with its error: the
 * database has just failed, and a read of their own would make them wait for a second timeout.
 */
export class SharedReads<V> {
  private readonly reads = new Map<string, { done: Promise<V>; next?: Promise<V> }>();

  /** `load`'s answer, from a read that started at or after this call. */
  read(key: string, load: () => Promise<V>): Promise<V> {
    const running = this.reads.get(key);
    if (!running) return this.start(key, load);
    running.next ??= running.done.then(() => this.start(key, load));
    return running.next;
  }

  private start(key: string, load: () => Promise<V>): Promise<V> {
    const read = { done: load() };
    this.reads.set(key, read);
    const forget = () => {
      if (this.reads.get(key) === read) this.reads.delete(key);
    };
    read.done.then(forget, forget);
    return read.done;
  }
}
