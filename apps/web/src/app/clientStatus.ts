/**
 * Remembers the server's verdict on this client version (X-Medseal-Client-Status), so the
 * layout can show the outdated-client banner. A tiny external store for useSyncExternalStore.
 */
export class ClientStatusStore {
  private status: string | null = null;
  private readonly listeners = new Set<() => void>();

  set = (status: string): void => {
    if (status === this.status) return;
    this.status = status;
    for (const l of this.listeners) l();
  };

  get = (): string | null => this.status;

  subscribe = (listener: () => void): (() => void) => {
    this.listeners.add(listener);
    return () => this.listeners.delete(listener);
  };
}
