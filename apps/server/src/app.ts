import express, { type Express } from 'express';
import type { Connection } from 'mongoose';
import type { Logger } from 'pino';
import { buildOpenApiDocument, endpoints, type EndpointName } from '@medseal/contract';
import { accessRules } from './access';
import { auditHandlers } from './components/audit/routes';
import { authHandlers } from './components/auth/routes';
import { authenticate } from './components/auth/sessions';
import { accountStateHandlers } from './components/account-state/routes';
import { consentHandlers } from './components/consents/routes';
import { contactsHandlers } from './components/contacts/routes';
import { healthRoutes } from './components/health/routes';
import { authorizeRecord, type RecordAccess } from './components/records/access';
import { recordHandlers } from './components/records/routes';
import { sharingHandlers } from './components/sharing/routes';
import { teamHandlers } from './components/teams/routes';
import { repairTeamLogsAtStart } from './components/teams/transparency';
import { transparencyHandlers } from './components/transparency/routes';
import { liveHandlers } from './components/live/routes';
import { userHandlers } from './components/users/routes';
import { clientAddressKey } from './lib/client-address';
import { errorHandler, notFound } from './lib/error-handler';
import { requestLog } from './lib/logger';
import {
  apiHeaders,
  clientVersionHeader,
  csrfGuard,
  documentHeaders,
  hostGuard,
  noStore,
} from './lib/http-security';
import { bindEndpoints, type AccessRule, type Handlers } from './lib/routing';
import { createServices, type AppSettings } from './services';

export interface AppDeps {
  connection: Connection;
  logger: Logger;
  settings: AppSettings;
  /** Folder of the built web app to serve beside the API, if any. */
  webDist?: string;
  /** Replaces the access table (tests of the fail-closed rule only). */
  accessRules?: Partial<Record<EndpointName, AccessRule>>;
  /** Logs, in the background, team statements a process that died left unlogged (main.ts). */
  repairAtStart?: boolean;
}

/** Uploads in flight per session and per client address (issue 15, finding 2). */
const UPLOAD_LIMITS = { perSession: 4, perIp: 8 } as const;

/** Builds the Express app; no listen() here, so tests run it on port 0 (STYLE.md §5). */
export function createApp(deps: AppDeps): Express {
  const services = createServices(deps.connection, deps.logger, deps.settings);
  if (deps.repairAtStart) repairTeamLogsAtStart(services);
  const app = express();
  app.disable('x-powered-by');
  // API answers are `no-store`, so never revalidated: no ETag (a SHA-1 of every body). Static files keep theirs.
  app.set('etag', false);
  app.set('trust proxy', deps.settings.trustProxy);
  app.set('query parser', 'simple'); // flat string values only: no `a[$ne]=` objects

  app.use(requestLog(deps.logger));
  app.use(hostGuard(deps.settings.allowedHosts));
  app.use(clientVersionHeader({ minClientVersion: deps.settings.minClientVersion }));

  const handlers: Handlers<RecordAccess> = {
    ...authHandlers(services),
    ...userHandlers(services),
    ...recordHandlers(services),
    ...sharingHandlers(services),
    ...consentHandlers(services),
    ...contactsHandlers(services),
    ...accountStateHandlers(services),
    ...auditHandlers(services),
    ...teamHandlers(services),
    ...transparencyHandlers(services),
    ...liveHandlers(services),
  };

  const api = express.Router();
  api.use(apiHeaders());
  api.use(noStore);
  api.use(csrfGuard({ allowedOrigins: deps.settings.allowedOrigins }));
  bindEndpoints<RecordAccess>(api, {
    endpoints,
    handlers: handlers as never,
    rules: deps.accessRules ?? accessRules,
    authenticate: (req) => authenticate(services, req),
    authorizeRecord: (recordId, auth, need) => authorizeRecord(services, recordId, auth, need),
    checkResponses: deps.settings.checkResponses,
    uploads: UPLOAD_LIMITS,
    clientKey: (req) => clientAddressKey(req.ip),
  });
  // After the endpoints, which every request walks first.
  api.use(healthRoutes(deps.connection));
  const openapi = buildOpenApiDocument({ version: deps.settings.version });
  api.get('/openapi.json', (_req, res) => {
    res.json(openapi);
  });
  api.use(notFound);
  app.use('/api', api);

  app.use(documentHeaders());
  if (deps.webDist) {
    app.use(express.static(deps.webDist, { index: false }));
    // Client-side routes: every other GET gets the app's index.html.
    const index = `${deps.webDist}/index.html`;
    app.get('/{*path}', (_req, res) => res.sendFile(index));
  }

  app.use(errorHandler(deps.logger));
  return app;
}
