import type { Server, ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import type { Express } from 'express';

/**
 * How long an idle keep-alive connection stays open. When a server closes an idle connection,
 * a client may be sending its next request on it at that moment and reads ECONNRESET; so the
 * client side must always be the one to close: this is longer than the idle timeout of the
 * proxies usually in front (AWS ALB and nginx upstream keep-alive: 60 s). Node advertises it
 * (`Keep-Alive: timeout=65`, which undici's fetch takes minus 2 s) and closes 1 s after it.
 */
export const KEEP_ALIVE_MS = 65_000;

export interface RunningHttpServer {
  server: Server;
  port: number;
  /**
   * Graceful stop: no new connections, idle keep-alive sockets closed at once, in-flight
   * requests allowed to finish; after `graceMs` the rest are cut so shutdown does end.
   */
  shutdown(graceMs?: number): Promise<void>;
}

export async function listen(app: Express, options: { host: string; port: number }): Promise<RunningHttpServer> {
  const server: Server = await new Promise((resolve, reject) => {
    const s = app.listen(options.port, options.host, (error?: Error) => (error ? reject(error) : resolve(s)));
  });
  server.keepAliveTimeout = KEEP_ALIVE_MS;
  // In-flight answers, so shutdown can tell their clients not to reuse the socket (else a
  // finished keep-alive socket would hold shutdown for the keep-alive timeout).
  let stopping = false;
  const inFlight = new Set<ServerResponse>();
  const closeAfter = (res: ServerResponse) => {
    if (!res.headersSent) res.setHeader('Connection', 'close');
    else res.once('finish', () => res.socket?.end());
  };
  server.on('request', (_req, res: ServerResponse) => {
    if (stopping) closeAfter(res);
    inFlight.add(res);
    res.once('close', () => inFlight.delete(res));
  });
  const { port } = server.address() as AddressInfo;
  return {
    server,
    port,
    shutdown: async (graceMs = 20_000) => {
      stopping = true;
      for (const res of inFlight) closeAfter(res);
      const closed = new Promise<void>((done) => server.close(() => done()));
      server.closeIdleConnections();
      const force = setTimeout(() => server.closeAllConnections(), graceMs);
      await closed;
      clearTimeout(force);
    },
  };
}
