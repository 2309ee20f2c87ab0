import { z } from 'zod';
import { idSchema } from './common';
import { endpoint } from './endpoint';

/** The server-sent event name of `GET /live` for changed records. */
export const LIVE_RECORDS_EVENT = 'records';

/**
 * The data of one `records` event: metadata only, the ids of records I can read (or could
 * until now) that were created, changed, shared, revoked or deleted. The client asks for
 * them as usual, through the endpoints that check access.
 */
export const liveRecordsEventSchema = z.object({ recordIds: z.array(idSchema) }).strict();
export type LiveRecordsEvent = z.infer<typeof liveRecordsEventSchema>;

export const liveEndpoints = {
  live: endpoint({
    method: 'get',
    path: '/live',
    summary: `Server-sent events (text/event-stream) for open tabs: a \`${LIVE_RECORDS_EVENT}\` event when records I can read change (ids only).`,
    tag: 'live',
    auth: 'session',
    response: 'event-stream',
    status: 200,
  }),
};
