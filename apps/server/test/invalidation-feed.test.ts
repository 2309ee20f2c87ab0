import { setTimeout as sleep } from 'node:timers/promises';
import {
  InvalidationFeed,
  invalidationModel,
  invalidationStartModel,
} from '../src/lib/invalidations';
import { isDuplicateKey } from '../src/lib/db';
import { createLogger } from '../src/lib/logger';
import { startTestServer, type TestServer } from './support';

// Feeds of "processes" on one database, with a short retention so cleanup runs in the test.
const TIMING = { pollMs: 20, leaseMs: 5_000, retainMs: 600 };
/** A busy machine's bound for a poll to see an event (the feed's own is pollMs). */
const SEEN_WITHIN_MS = 3_000;
/**
 * The bound for a started feed's first good poll (its start link and chain end, the first
 * queries on a fresh database): not what these tests measure, and over 3 s once on a loaded
 * 2-core CI machine (2026-12-05).
 */
const STARTED_WITHIN_MS = 20_000;

let server: TestServer;
const feeds: InvalidationFeed[] = [];
beforeAll(async () => {
  server = await startTestServer();
});
afterAll(async () => {
  for (const feed of feeds) feed.stop();
  await server.close();
});

/** A started feed with a log of the tags it applied. */
function startProcess(timing = TIMING): { feed: InvalidationFeed; heard: string[] } {
  const feed = new InvalidationFeed(
    invalidationModel(server.connection),
    invalidationStartModel(server.connection),
    createLogger('silent'),
    timing,
  );
  const heard: string[] = [];
  feed.listen((tags) => heard.push(...tags));
  feed.start();
  feeds.push(feed);
  return { feed, heard };
}

/** The seq of a chain link's `_id` (`<chain>:<seq>`). */
const seqOf = (id: string) => Number(id.slice(id.indexOf(':') + 1));

async function until(done: () => boolean, what: string, withinMs = SEEN_WITHIN_MS): Promise<void> {
  const start = Date.now();
  while (!done()) {
    if (Date.now() - start > withinMs) throw new Error(`not within ${withinMs} ms: ${what}`);
    await sleep(10);
  }
}

describe('the invalidation feed (events by `_id`)', () => {
  it('when processes publish at once, then every other process applies each event once, and its own once', async () => {
    const a = startProcess();
    const b = startProcess();
    await until(() => a.feed.current() && b.feed.current(), 'both polled', STARTED_WITHIN_MS);
    const tags = Array.from({ length: 60 }, (_, i) => `t:${i}`);
    await Promise.all(tags.map((tag, i) => (i % 2 ? a : b).feed.publish([tag])));
    for (const p of [a, b]) {
      await until(() => tags.every((t) => p.heard.includes(t)), 'all events heard');
      await sleep(100);
      expect([...p.heard].sort()).toEqual([...tags].sort());
    }
  });

  it('when events are older than the retention, then they are deleted, and a process started later still continues the chain', async () => {
    const a = startProcess();
    const b = startProcess();
    await until(() => a.feed.current() && b.feed.current(), 'both polled', STARTED_WITHIN_MS);
    await Promise.all(Array.from({ length: 30 }, (_, i) => a.feed.publish([`old:${i}`])));
    const events = server.connection.collection('cache_invalidations');
    const stored = await events.countDocuments();
    await until(() => b.heard.includes('old:29'), 'old events heard');
    // Cleanup runs every retainMs / 2 and deletes what is older than retainMs.
    const start = Date.now();
    while ((await events.countDocuments()) >= stored) {
      if (Date.now() - start > 10 * TIMING.retainMs + SEEN_WITHIN_MS)
        throw new Error('events never deleted');
      await sleep(50);
    }
    const c = startProcess();
    await until(() => c.feed.current(), 'c polled', STARTED_WITHIN_MS);
    await c.feed.publish(['from:c']);
    await until(
      () => b.heard.includes('from:c') && a.heard.includes('from:c'),
      'c heard by a and b',
    );
  });

  it('when a process that moved the start died before deleting the events below it, then another process deletes them', async () => {
    const a = startProcess();
    await until(() => a.feed.current(), 'a polled', STARTED_WITHIN_MS);
    const dying = startProcess();
    await Promise.all(Array.from({ length: 3 }, (_, i) => dying.feed.publish([`left:${i}`])));
    dying.feed.stop();
    const events = server.connection.collection<{ _id: string; tags: string[] }>(
      'cache_invalidations',
    );
    const left = await events.find({ tags: { $regex: '^left:' } }).toArray();
    expect(left).toHaveLength(3);
    const highest = Math.max(...left.map((e) => seqOf(e._id)));
    // What the dying process stored before it died: the start moved above its events.
    const starts = server.connection.collection<{ _id: string; seq: number }>(
      'cache_invalidation_starts',
    );
    // Process a appends start links of its own meanwhile (its cleanup): a link taken under us
    // is a duplicate `_id`, and we look again.
    for (;;) {
      const links = await starts.find({ _id: { $regex: '^start:' } }).toArray();
      if (links.some((l) => l.seq >= highest)) break;
      const k = Math.max(0, ...links.map((l) => seqOf(l._id)));
      const taken = await starts.insertOne({ _id: `start:${k + 1}`, seq: highest }).then(
        () => false,
        (error: unknown) => {
          if (!isDuplicateKey(error)) throw error;
          return true;
        },
      );
      if (!taken) break;
    }
    const start = Date.now();
    while ((await events.countDocuments({ _id: { $in: left.map((e) => e._id) } })) > 0) {
      if (Date.now() - start > 10 * TIMING.retainMs + SEEN_WITHIN_MS)
        throw new Error('the events below the start were never deleted');
      await sleep(50);
    }
  });

  it('when a process whose end of the chain is old publishes after the events past it were deleted, then the others still hear it', async () => {
    const quiet = startProcess();
    const a = startProcess();
    await until(() => quiet.feed.current() && a.feed.current(), 'both polled', STARTED_WITHIN_MS);
    await quiet.feed.publish(['quiet:1']);
    await Promise.all(Array.from({ length: 5 }, (_, i) => a.feed.publish([`busy:${i}`])));
    const events = server.connection.collection<{ _id: string; tags: string[] }>(
      'cache_invalidations',
    );
    const first = await events.findOne({ tags: 'quiet:1' });
    // The slot after quiet's last notice, where its kept end of the chain points.
    const next = `n:${seqOf(first?._id ?? '') + 1}`;
    const start = Date.now();
    while ((await events.countDocuments({ _id: next })) > 0) {
      if (Date.now() - start > 10 * TIMING.retainMs + SEEN_WITHIN_MS)
        throw new Error(`${next} was never deleted`);
      await sleep(50);
    }
    await quiet.feed.publish(['quiet:2']);
    await until(() => a.heard.includes('quiet:2'), 'quiet:2 heard by a');
  });

  it('when a process reads only after the events it missed were deleted, then it empties its caches instead of missing them', async () => {
    const a = startProcess();
    // Polls once at start, then only after the events below are deleted.
    const slow = startProcess({ ...TIMING, pollMs: 8_000, leaseMs: 60_000 });
    await until(() => a.feed.current() && slow.feed.current(), 'both polled', STARTED_WITHIN_MS);
    const cache = slow.feed.cache<{ v: number }>({
      max: 10,
      ttlMs: 60_000,
      tagsOf: () => ['kept'],
    });
    let loads = 0;
    const read = () => cache.get('k', async () => ({ v: ++loads }));
    await read();
    await read();
    expect(loads).toBe(1);
    await Promise.all(Array.from({ length: 5 }, (_, i) => a.feed.publish([`missed:${i}`])));
    const events = server.connection.collection('cache_invalidations');
    const missed = await events.find({ tags: 'missed:0' }).toArray();
    expect(missed).toHaveLength(1);
    // Cleanup runs every retainMs / 2 and deletes what is older than retainMs.
    const deleting = Date.now();
    while ((await events.countDocuments({ _id: missed[0]?._id })) > 0) {
      if (Date.now() - deleting > 10 * TIMING.retainMs + SEEN_WITHIN_MS)
        throw new Error(`the missed event ${String(missed[0]?._id)} was never deleted`);
      await sleep(50);
    }
    const start = Date.now();
    while (loads === 1) {
      if (Date.now() - start > 8_000 + SEEN_WITHIN_MS)
        throw new Error('the cache was never emptied');
      await sleep(50);
      await read();
    }
    expect(slow.heard.filter((t) => t.startsWith('missed:'))).toEqual([]);
  });
});
