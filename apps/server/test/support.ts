import type { AddressInfo } from 'node:net';
import type { Server } from 'node:http';
import type { Connection } from 'mongoose';
import { freshTestDatabaseUri } from '@medseal/devdb/test-database';
import { createApp } from '../src/app';
import { connectDb } from '../src/lib/db';
import { createLogger } from '../src/lib/logger';

export interface TestServer {
  baseUrl: string;
  connection: Connection;
  close(): Promise<void>;
}

/** The real app on 127.0.0.1 port 0 against a fresh database of its own. */
export async function startTestServer(options: { mongoUri?: string } = {}): Promise<TestServer> {
  const connection = await connectDb(options.mongoUri ?? freshTestDatabaseUri('server'));
  const app = createApp({ connection, logger: createLogger('silent') });
  const server: Server = await new Promise((resolve) => {
    const s = app.listen(0, '127.0.0.1', () => resolve(s));
  });
  const { port } = server.address() as AddressInfo;
  return {
    baseUrl: `http://127.0.0.1:${port}`,
    connection,
    close: async () => {
      server.closeAllConnections();
      await new Promise<void>((done) => server.close(() => done()));
      await connection.dropDatabase().catch(() => undefined);
      await connection.close();
    },
  };
}
