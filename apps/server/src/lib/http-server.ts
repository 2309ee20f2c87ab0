import type { Server, ServerResponse } from 'node:http';
import { Server as NetServer, type AddressInfo, type Socket } from 'node:net';
import { finished } from 'node:stream';
import type { Express } from 'express';

/**
 * How long an idle keep-alive connection stays open. When a server closes an idle connection,
 * a client may be sending its next request on it at that moment and reads ECONNRESET; so the
 * client side must always be the one to close: this is longer than the idle timeout of the
 * proxies usually in front (AWS ALB and nginx upstream keep-alive: 60 s). Node advertises it
 * (`Keep-Alive: timeout=65`, which undici's fetch takes minus 2 s) and closes 1 s after it.
 */
export const KEEP_ALIVE_MS = 65_000;

/**
 * During a graceful stop, a keep-alive connection idle this long is closed. A client under load
 * sends its next request on a connection well within it; that request is answered (with
 * `Connection: close`) instead of meeting a closed connection.
 */
const DRAIN_IDLE_MS = 1_000;

/**
 * Resolves once the answer is complete or its connection closed, including when that happened
 * before the call: a client may leave while its request waits (e.g. on the session check), and
 * a `res.once('close')` registered after that never fires, leaving behind whatever was to be
 * released then (a stream's timer, an upload slot).
 */
export function responseEnded(res: ServerResponse): Promise<void> {
  return new Promise((resolve) => finished(res, () => resolve()));
}

export interface RunningHttpServer {
  server: Server;
  port: number;
  /**
   * Graceful stop: no new connections; requests in flight, and any that still arrive on an
   * open connection, are answered with `Connection: close`; event streams are ended; connections idle for
   * `DRAIN_IDLE_MS` are closed; after `graceMs` the rest are cut so shutdown does end.
   */
  shutdown(graceMs?: number): Promise<void>;
}

export async function listen(
  app: Express,
  options: { host: string; port: number },
): Promise<RunningHttpServer> {
  const server: Server = await new Promise((resolve, reject) => {
    const s = app.listen(options.port, options.host, (error?: Error) =>
      error ? reject(error) : resolve(s),
    );
  });
  server.keepAliveTimeout = KEEP_ALIVE_MS;

  let stopping = false;
  const connections = new Set<Socket>();
  /** Requests being answered on each connection (HTTP/1.1 may pipeline more than one). */
  const answering = new Map<Socket, number>();
  const inFlight = new Set<ServerResponse>();
  const closeWhenIdle = (socket: Socket) => {
    const bytesRead = socket.bytesRead;
    const decide = () => {
      if (answering.has(socket)) return; // its answer's 'close' calls this again
      // Bytes of a request not yet complete came in: give it the time it takes.
      if (socket.bytesRead !== bytesRead) closeWhenIdle(socket);
      // end(), not destroy(): a request that still races this is read, so no reset.
      else socket.end();
    };
    // Decided after this loop turn's I/O (setImmediate), not in the timer: when the process
    // ran late, a request that came in meanwhile is read first and counts.
    setTimeout(() => setImmediate(decide), DRAIN_IDLE_MS).unref();
  };
  server.on('connection', (socket: Socket) => {
    connections.add(socket);
    socket.once('close', () => connections.delete(socket));
  });
  // Before the app's listener, so the header is set before any answer starts.
  server.prependListener('request', (req, res: ServerResponse) => {
    const socket = req.socket;
    if (stopping) res.setHeader('Connection', 'close');
    answering.set(socket, (answering.get(socket) ?? 0) + 1);
    inFlight.add(res);
    res.once('close', () => {
      inFlight.delete(res);
      const left = (answering.get(socket) ?? 1) - 1;
      if (left > 0) answering.set(socket, left);
      else answering.delete(socket);
      // An answer whose headers went out before the stop left its connection open.
      if (stopping && left === 0) closeWhenIdle(socket);
    });
  });
  const { port } = server.address() as AddressInfo;
  return {
    server,
    port,
    shutdown: async (graceMs = 20_000) => {
      stopping = true;
      for (const res of inFlight) {
        if (!res.headersSent) res.setHeader('Connection', 'close');
        // A server-sent event stream (`/api/live`) never ends by itself and would hold the stop
        // until the cut: end it now, cleanly; the browser's EventSource reconnects (to a
        // server that is running).
        else if (String(res.getHeader('content-type')).startsWith('text/event-stream')) res.end();
      }
      // net's close, not http's: http.Server#close also destroys every idle keep-alive
      // connection at once, and under load a client has often just sent its next request on
      // one, which then meets a reset instead of an answer.
      const closed = new Promise<void>((done) =>
        NetServer.prototype.close.call(server, () => done()),
      );
      for (const socket of connections) if (!answering.has(socket)) closeWhenIdle(socket);
      const force = setTimeout(() => server.closeAllConnections(), graceMs);
      await closed;
      clearTimeout(force);
    },
  };
}
