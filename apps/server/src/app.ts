import express, { type Express } from 'express';
import type { Connection } from 'mongoose';
import type { Logger } from 'pino';
import { errorHandler, notFound } from './lib/error-handler';
import { healthRoutes } from './components/health/routes';

export interface AppDeps {
  connection: Connection;
  logger: Logger;
  /** Folder of the built web app to serve beside the API, if any. */
  webDist?: string;
}

/** Builds the Express app; no listen() here, so tests run it on port 0 (STYLE.md §5). */
export function createApp(deps: AppDeps): Express {
  const app = express();
  app.disable('x-powered-by');

  const api = express.Router();
  api.use(healthRoutes(deps.connection));
  api.use(notFound);
  app.use('/api', api);

  if (deps.webDist) {
    app.use(express.static(deps.webDist, { index: false }));
    // Client-side routes: every other GET gets the app's index.html.
    const index = `${deps.webDist}/index.html`;
    app.get('/{*path}', (_req, res) => res.sendFile(index));
  }

  app.use(errorHandler(deps.logger));
  return app;
}
