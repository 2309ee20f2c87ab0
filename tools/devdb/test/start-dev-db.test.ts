import { existsSync } from 'node:fs';
import { MongoClient } from 'mongodb';
import { startDevDb } from '../src/index';

describe('startDevDb', () => {
  it('when nothing is configured, then it starts a local server that answers ping, and stop removes its temporary data', async () => {
    const db = await startDevDb({ log: () => undefined });
    expect(['mongod', 'ferretdb', 'mongodb-memory-server']).toContain(db.engine);
    expect(new URL(db.uri).hostname).toBe('127.0.0.1');
    const client = new MongoClient(db.uri);
    try {
      await expect(client.db('admin').command({ ping: 1 })).resolves.toMatchObject({ ok: 1 });
    } finally {
      await client.close();
      await db.stop();
    }
    expect(db.dataDir && existsSync(db.dataDir)).toBe(false);
  });

  it('when a MongoDB URI is given, then it is used as is and reported as external', async () => {
    const local = await startDevDb({ log: () => undefined });
    try {
      const external = await startDevDb({ mongodbUri: local.uri });
      expect(external).toMatchObject({ engine: 'external', uri: local.uri, dataDir: undefined });
    } finally {
      await local.stop();
    }
  });
});
