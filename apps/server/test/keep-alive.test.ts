import { KEEP_ALIVE_MS } from '../src/lib/http-server';
import { startTestServer, type TestServer } from './support';

let server: TestServer;
beforeAll(async () => {
  server = await startTestServer();
});
afterAll(() => server.close());

/** Runs nothing else in this process for `ms`, like a long synchronous computation does. */
const blockEventLoop = (ms: number) =>
  Atomics.wait(new Int32Array(new SharedArrayBuffer(4)), 0, 0, ms);

describe('keep-alive connections', () => {
  it('when a client reuses a pooled connection after its event loop was blocked for 7 s, then it gets its answer, not ECONNRESET', async () => {
    const health = `${server.baseUrl}/api/health`;
    // Two requests at once leave two connections in fetch's pool.
    const both = await Promise.all([fetch(health), fetch(health)]);
    await Promise.all(both.map((res) => res.arrayBuffer()));
    // Idle connections are kept past a load balancer's 60 s, and clients are told so.
    expect(both[0]?.headers.get('keep-alive')).toBe(`timeout=${KEEP_ALIVE_MS / 1000}`);
    await new Promise((resolve) => setTimeout(resolve, 100));
    // This one takes the first connection; the second stays idle.
    await (await fetch(health)).arrayBuffer();
    // Server and client share this event loop (as in every server test): neither the client's
    // timer that drops an idle connection nor the server's that closes it can run, and the
    // next request goes out on the second connection before either does. A server that closed
    // idle connections within 7 s (Node's default: 5 s + 1 s) reset it (sharing.test.ts did
    // that under load: jest's deep equality on a 300 KB array blocked the loop ~8 s).
    blockEventLoop(7_000);
    const res = await fetch(health);
    expect(res.status).toBe(200);
  });
});
