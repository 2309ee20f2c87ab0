import { auditEndpoints } from './audit';
import { authEndpoints } from './auth';
import { accountStateEndpoints } from './account-state';
import { consentEndpoints } from './consents';
import { contactsEndpoints } from './contacts';
import { directoryEndpoints } from './directory';
import { liveEndpoints } from './live';
import { recordEndpoints } from './records';
import { sharingEndpoints } from './sharing';
import { teamEndpoints } from './teams';
import { transparencyEndpoints } from './transparency';

/** Every API operation under /api, by name. The server must bind each one. */
export const endpoints = {
  ...authEndpoints,
  ...directoryEndpoints,
  ...recordEndpoints,
  ...sharingEndpoints,
  ...consentEndpoints,
  ...contactsEndpoints,
  ...accountStateEndpoints,
  ...auditEndpoints,
  ...teamEndpoints,
  ...transparencyEndpoints,
  ...liveEndpoints,
} as const;
export type Endpoints = typeof endpoints;
export type EndpointName = keyof Endpoints;

/** Request header every state-changing request must carry (CSRF defence with the Origin check). */
export const CSRF_HEADER = 'x-medseal-csrf';
/** Client version header; the server answers outdated clients with CLIENT_STATUS_HEADER. */
export const CLIENT_VERSION_HEADER = 'x-medseal-client';
export const CLIENT_STATUS_HEADER = 'x-medseal-client-status';
