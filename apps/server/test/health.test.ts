import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { startDevDb, type DevDb } from '@medseal/devdb';
import { healthResponseSchema } from '@medseal/contract';
import { startTestServer, type TestServer } from './support';

async function getHealth(server: TestServer) {
  const res = await fetch(`${server.baseUrl}/api/health`);
  return { status: res.status, body: healthResponseSchema.parse(await res.json()) };
}

describe('GET /api/health', () => {
  it('when the database answers, then 200 with the engine named', async () => {
    const server = await startTestServer();
    try {
      const { status, body } = await getHealth(server);
      expect(status).toBe(200);
      expect(body.db.ok).toBe(true);
      const expected = process.env.MEDSEAL_TEST_DB_ENGINE === 'ferretdb' ? 'ferretdb' : 'mongodb';
      expect(body.db.engine).toBe(expected);
    } finally {
      await server.close();
    }
  });

  // Needs a database this test may stop and start again on the same port.
  const ownsDatabase = process.env.MEDSEAL_TEST_DB_ENGINE !== 'external';
  (ownsDatabase ? it : it.skip)(
    'when the database stops, then 503 with a clear message that does not name its address, and 200 again once it is back without a restart',
    async () => {
      const dataDir = await mkdtemp(join(tmpdir(), 'medseal-health-'));
      let db: DevDb = await startDevDb({ dataDir });
      const port = Number(new URL(db.uri).port);
      const server = await startTestServer({ mongoUri: new URL('health', db.uri).toString() });
      try {
        expect((await getHealth(server)).status).toBe(200);

        await db.stop();
        const down = await getHealth(server);
        expect(down.status).toBe(503);
        expect(down.body).toMatchObject({ status: 'unavailable', db: { ok: false } });
        // Open to anyone, so nothing of the driver's error (the database's address) is in it.
        expect(down.body.db.message).toBe('database not reachable');
        expect(JSON.stringify(down.body)).not.toContain(String(port));

        db = await startDevDb({ dataDir, port });
        let back = await getHealth(server);
        for (let i = 0; i < 40 && back.status !== 200; i++) {
          await new Promise((r) => setTimeout(r, 250));
          back = await getHealth(server);
        }
        expect(back.status).toBe(200);
      } finally {
        await server.close();
        await db.stop();
        await rm(dataDir, { recursive: true, force: true });
      }
    },
  );
});
