/** Most uploads in flight at once per session and per client address. */
export interface UploadLimits {
  perSession: number;
  perIp: number;
}

/**
 * Counts the uploads this process is reading right now, per session and per client address,
 * so one session (or one address with many sessions) cannot make it buffer more than a few
 * bodies at a time (issue 15, finding 2). In-flight requests belong to the process that reads
 * them, so unlike rate limits (lib/rate-limit.ts) these counts live in memory: a restart ends
 * the uploads with them, and N instances behind a balancer allow N times the slots.
 */
export class UploadSlots {
  private readonly inFlight = new Map<string, number>();

  constructor(private readonly limits: UploadLimits) {}

  /**
   * Takes a slot for one upload; returns its release (idempotent), or undefined when the
   * session or the address has no slot left.
   */
  take(who: { session: string; ip: string }): (() => void) | undefined {
    const keys = [`s:${who.session}`, `ip:${who.ip}`] as const;
    if (
      (this.inFlight.get(keys[0]) ?? 0) >= this.limits.perSession ||
      (this.inFlight.get(keys[1]) ?? 0) >= this.limits.perIp
    ) {
      return undefined;
    }
    for (const k of keys) this.inFlight.set(k, (this.inFlight.get(k) ?? 0) + 1);
    let released = false;
    return () => {
      if (released) return;
      released = true;
      for (const k of keys) {
        const left = (this.inFlight.get(k) ?? 1) - 1;
        if (left > 0) this.inFlight.set(k, left);
        else this.inFlight.delete(k);
      }
    };
  }
}
