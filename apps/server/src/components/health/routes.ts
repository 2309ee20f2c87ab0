import { Router } from 'express';
import type { Connection } from 'mongoose';
import type { HealthResponse } from '@medseal/contract';
import { detectEngine, pingDb, type DbEngine } from '../../lib/db';

/** GET /api/health: whether the database answers, and which engine it is. */
export function healthRoutes(connection: Connection): Router {
  const router = Router();
  let engine: DbEngine = 'unknown';

  router.get('/health', async (_req, res) => {
    try {
      await pingDb(connection);
      if (engine === 'unknown') engine = await detectEngine(connection);
      const body: HealthResponse = { status: 'ok', db: { engine, ok: true } };
      res.json(body);
    } catch {
      // Open to anyone: the driver's message (hosts, ports, topology) is not for them.
      const body: HealthResponse = {
        status: 'unavailable',
        db: { engine, ok: false, message: 'database not reachable' },
      };
      res.status(503).json(body);
    }
  });
  return router;
}
