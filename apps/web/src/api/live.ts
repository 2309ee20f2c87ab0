import { LIVE_RECORDS_EVENT, liveRecordsEventSchema } from '@medseal/contract';

/**
 * Subscribes to the server's pushed changes (`GET /live`, server-sent events): calls
 * `onRecordsChanged` with the ids of records I can read that changed, and with none after a
 * lost connection came back (anything may have changed meanwhile). Returns the unsubscribe.
 */
export type LiveFeed = (onRecordsChanged: (recordIds: string[]) => void) => () => void;

export function createLiveFeed(baseUrl: string): LiveFeed {
  return (onRecordsChanged) => {
    // EventSource reconnects by itself (after the server's `retry`), with the session cookie.
    const source = new EventSource(`${baseUrl}/live`);
    let opened = false;
    source.addEventListener('open', () => {
      if (opened) onRecordsChanged([]);
      opened = true;
    });
    source.addEventListener(LIVE_RECORDS_EVENT, (event) => {
      let data: unknown;
      try {
        data = JSON.parse(String((event as MessageEvent).data));
      } catch {
        return; // not ours: ignored, like any event the contract does not describe
      }
      const parsed = liveRecordsEventSchema.safeParse(data);
      if (parsed.success) onRecordsChanged(parsed.data.recordIds);
    });
    return () => source.close();
  };
}
