import type { Connection } from 'mongoose';
import type { Logger } from 'pino';
import { challengeModel, sessionModel } from './components/auth/model';
import { AuditLog } from './components/audit/log';
import { auditHeadModel, auditModel } from './components/audit/model';
import { contactsModel } from './components/contacts/model';
import { attachmentChunkModel, attachmentModel, recordModel, recordVersionModel } from './components/records/model';
import { grantModel } from './components/sharing/model';
import { userModel } from './components/users/model';
import { claimModel } from './lib/claims';
import { RateLimiter } from './lib/rate-limit';
import type { ServerSecrets } from './lib/secrets';

/** Settings createApp needs; main.ts builds them from config, tests from test defaults. */
export interface AppSettings {
  secrets: ServerSecrets;
  /** False only for plain-HTTP localhost: drops Secure and the `__Host-` prefix. */
  secureCookies: boolean;
  /** Allowed Origins for state-changing requests; empty = the request's own host. */
  allowedOrigins: string[];
  sessionTtlMs: number;
  rateWindowMs: number;
  rateLimits: RateLimits;
  minClientVersion: string;
  /** Version reported in the OpenAPI document. */
  version: string;
  /** Parse every JSON answer with its contract schema (tests). */
  checkResponses: boolean;
  /** Argon2id cost for stored login-secret hashes (DESIGN §3: ≥ 19 MiB, t ≥ 2). */
  argon2: { memoryCost: number; timeCost: number; parallelism: number };
  trustProxy: number;
}

export interface RateLimits {
  paramsPerIp: number;
  paramsPerAccount: number;
  loginPerIp: number;
  /** Failed logins per account per window. */
  loginFailuresPerAccount: number;
  recoveryPerIp: number;
  recoveryPerAccount: number;
  registerPerIp: number;
}

export const defaultRateLimits: RateLimits = {
  paramsPerIp: 300,
  paramsPerAccount: 60,
  loginPerIp: 100,
  loginFailuresPerAccount: 10,
  recoveryPerIp: 30,
  recoveryPerAccount: 10,
  registerPerIp: 30,
};

export function createModels(connection: Connection) {
  return {
    users: userModel(connection),
    sessions: sessionModel(connection),
    challenges: challengeModel(connection),
    records: recordModel(connection),
    versions: recordVersionModel(connection),
    attachments: attachmentModel(connection),
    chunks: attachmentChunkModel(connection),
    grants: grantModel(connection),
    contacts: contactsModel(connection),
    audit: auditModel(connection),
    auditHeads: auditHeadModel(connection),
    claims: claimModel(connection),
  };
}
export type Models = ReturnType<typeof createModels>;

/** Everything a use case may touch; no module-level state (DESIGN §9). */
export interface Services {
  connection: Connection;
  logger: Logger;
  settings: AppSettings;
  models: Models;
  limiter: RateLimiter;
  /** Record audit chains, written with group commit. */
  auditLog: AuditLog;
}

export function createServices(connection: Connection, logger: Logger, settings: AppSettings): Services {
  const models = createModels(connection);
  return {
    connection,
    logger,
    settings,
    models,
    limiter: new RateLimiter(connection, settings.rateWindowMs),
    auditLog: new AuditLog(models),
  };
}
