import { createServer, connect, type Server, type Socket } from 'node:net';

/**
 * A TCP proxy in front of the test database that can reset (TCP RST) the connection carrying
 * a chosen command, as a database that crashed or a network that dropped mid-write does.
 */
export interface DbProxy {
  /** The database URI through the proxy. */
  uri: string;
  /** While set, a chunk from the client that contains every one of these strings is answered with a reset. */
  resetOn(parts: readonly string[] | undefined): void;
  /**
   * Holds the next chunk from the client that contains every one of these strings (a command
   * the database is slow to answer): `held` resolves once one is, and `reset()` then answers it
   * with a reset, as a database that died with it.
   */
  holdOn(parts: readonly string[]): { held: Promise<void>; reset(): void };
  close(): Promise<void>;
}

export async function startDbProxy(target: string): Promise<DbProxy> {
  const to = new URL(target);
  let parts: readonly string[] | undefined;
  let hold: { parts: readonly string[]; grab: (drop: () => void) => void } | undefined;
  const sockets = new Set<Socket>();
  const server: Server = createServer((client) => {
    const upstream = connect(Number(to.port), to.hostname);
    sockets.add(client).add(upstream);
    const drop = () => {
      client.destroy();
      upstream.destroy();
      sockets.delete(client);
      sockets.delete(upstream);
    };
    client.on('data', (chunk: Buffer) => {
      if (parts && parts.every((p) => chunk.includes(p))) {
        client.resetAndDestroy();
        upstream.destroy();
        return;
      }
      if (hold && hold.parts.every((p) => chunk.includes(p))) {
        hold.grab(() => {
          client.resetAndDestroy();
          upstream.destroy();
        });
        hold = undefined;
        return;
      }
      upstream.write(chunk);
    });
    upstream.on('data', (chunk: Buffer) => client.write(chunk));
    client.on('error', drop).on('close', drop);
    upstream.on('error', drop).on('close', drop);
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const address = server.address();
  if (address === null || typeof address === 'string') throw new Error('proxy has no port');
  const uri = new URL(target);
  uri.host = `127.0.0.1:${address.port}`;
  return {
    uri: uri.toString(),
    resetOn: (p) => {
      parts = p;
    },
    holdOn: (p) => {
      let drop: (() => void) | undefined;
      const held = new Promise<void>((resolve) => {
        hold = {
          parts: p,
          grab: (d) => {
            drop = d;
            resolve();
          },
        };
      });
      return { held, reset: () => drop?.() };
    },
    close: async () => {
      for (const s of sockets) s.destroy();
      await new Promise((resolve) => server.close(resolve));
    },
  };
}
