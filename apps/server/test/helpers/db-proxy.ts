import { createServer, connect, type Server, type Socket } from 'node:net';

/**
 * A TCP proxy in front of the test database that can reset (TCP RST) the connection carrying
 * a chosen command, as a database that crashed or a network that dropped mid-write does, or hold
 * one back, as a slow request does while another one overtakes it.
 */
export interface DbProxy {
  /** The database URI through the proxy. */
  uri: string;
  /**
   * While set, a chunk from the client that contains every one of these strings is answered with
   * a reset; with `after`, the first `after` such chunks pass (to fail a later step of a request).
   * With `afterStoring`, the chunk reaches the database first and the reset replaces its answer,
   * as a write that was stored while its answer was lost.
   */
  resetOn(
    parts: readonly string[] | undefined,
    options?: { after?: number; afterStoring?: boolean },
  ): void;
  /**
   * Holds back the next chunk from the client that contains every one of these strings (its
   * connection waits with it, as a command the database is slow to answer): `seen` resolves when
   * it arrives; after that, `release` sends it on, or `reset` answers it with a reset, as a
   * database that died with it.
   */
  holdOn(parts: readonly string[]): { seen: Promise<void>; release(): void; reset(): void };
  close(): Promise<void>;
}

export async function startDbProxy(target: string): Promise<DbProxy> {
  const to = new URL(target);
  let parts: readonly string[] | undefined;
  let passing = 0;
  let afterStoring = false;
  let hold:
    | { parts: readonly string[]; caught: (release: () => void, reset: () => void) => void }
    | undefined;
  const sockets = new Set<Socket>();
  const server: Server = createServer((client) => {
    const upstream = connect(Number(to.port), to.hostname);
    sockets.add(client).add(upstream);
    let answerLost = false;
    const drop = () => {
      client.destroy();
      upstream.destroy();
      sockets.delete(client);
      sockets.delete(upstream);
    };
    client.on('data', (chunk: Buffer) => {
      if (parts && parts.every((p) => chunk.includes(p)) && passing-- <= 0) {
        if (afterStoring) {
          answerLost = true;
          upstream.write(chunk);
          return;
        }
        client.resetAndDestroy();
        upstream.destroy();
        return;
      }
      if (hold?.parts.every((p) => chunk.includes(p))) {
        const { caught } = hold;
        hold = undefined;
        client.pause();
        caught(
          () => {
            upstream.write(chunk);
            client.resume();
          },
          () => {
            client.resetAndDestroy();
            upstream.destroy();
          },
        );
        return;
      }
      upstream.write(chunk);
    });
    upstream.on('data', (chunk: Buffer) => {
      if (!answerLost) {
        client.write(chunk);
        return;
      }
      client.resetAndDestroy();
      upstream.destroy();
    });
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
    resetOn: (p, options) => {
      parts = p;
      passing = options?.after ?? 0;
      afterStoring = options?.afterStoring ?? false;
    },
    holdOn: (p) => {
      let send: () => void = () => undefined;
      let drop: () => void = () => undefined;
      const seen = new Promise<void>((resolve) => {
        hold = {
          parts: p,
          caught: (sendOn, reset) => {
            send = sendOn;
            drop = reset;
            resolve();
          },
        };
      });
      return { seen, release: () => send(), reset: () => drop() };
    },
    close: async () => {
      for (const s of sockets) s.destroy();
      await new Promise((resolve) => server.close(resolve));
    },
  };
}
