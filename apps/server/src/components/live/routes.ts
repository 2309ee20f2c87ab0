import { LIVE_RECORDS_EVENT, type LiveRecordsEvent } from '@medseal/contract';
import { responseEnded } from '../../lib/http-server';
import type { Handlers } from '../../lib/routing';
import { cacheTag, type Services } from '../../services';
import { authenticate } from '../auth/sessions';

/**
 * A comment this often keeps proxies from closing a quiet stream, and re-checks the session:
 * a stream whose session ended or expired is closed (the tab then asks and gets 401).
 */
const HEARTBEAT_MS = 25_000;
/** Changes arriving within this window go out as one event. */
const BATCH_MS = 50;

/**
 * `GET /live`: server-sent events for a user's open tabs, fed by the invalidation feed (so a
 * change made through another server process arrives too, within the feed's poll). Only the
 * ids of records the user reads (or read until this change) go out, never those of others
 * changed in the same notice (a batch share); the tab fetches the records through the
 * endpoints that check access.
 */
export function liveHandlers(s: Services): Pick<Handlers<unknown>, 'live'> {
  return {
    live: async ({ auth, req, res }) => {
      const mine = cacheTag.readerOf(auth.userId, '');
      res.status(200);
      res.setHeader('content-type', 'text/event-stream; charset=utf-8');
      // Tell buffering proxies (nginx) to pass each event on at once.
      res.setHeader('x-accel-buffering', 'no');
      res.flushHeaders();
      // EventSource reconnects after this many ms when the stream ends.
      res.write('retry: 3000\n\n');

      let changed = new Set<string>();
      let batch: NodeJS.Timeout | undefined;
      const send = () => {
        batch = undefined;
        const event: LiveRecordsEvent = { recordIds: [...changed] };
        changed = new Set();
        res.write(`event: ${LIVE_RECORDS_EVENT}\ndata: ${JSON.stringify(event)}\n\n`);
      };
      const stopListening = s.feed.listen((tags) => {
        const before = changed.size;
        for (const tag of tags) if (tag.startsWith(mine)) changed.add(tag.slice(mine.length));
        if (changed.size > before) batch ??= setTimeout(send, BATCH_MS);
      });
      const heartbeat = setInterval(() => {
        void authenticate(s, req).then(
          (still) =>
            still?.sessionId === auth.sessionId ? res.write(': still here\n\n') : res.end(),
          () => res.end(),
        );
      }, HEARTBEAT_MS);
      await responseEnded(res);
      stopListening();
      clearInterval(heartbeat);
      clearTimeout(batch);
    },
  };
}
