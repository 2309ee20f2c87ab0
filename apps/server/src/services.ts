import type { Connection } from 'mongoose';
import type { Logger } from 'pino';
import { challengeModel, sessionModel, type SessionDoc } from './components/auth/model';
import { AuditLog } from './components/audit/log';
import { auditCheckpointModel, auditModel } from './components/audit/model';
import { accountStateModel } from './components/account-state/model';
import { consentListModel, consentModel } from './components/consents/model';
import { contactsModel } from './components/contacts/model';
import { feedHintModel, feedModel, ListingFeed } from './components/records/feed';
import {
  attachmentChunkModel,
  attachmentLinkModel,
  attachmentModel,
  recordInserts,
  recordModel,
  recordVersionModel,
  type AttachmentDoc,
  type RecordInserts,
  type RecordDoc,
} from './components/records/model';
import { grantModel, teamGrantModel } from './components/sharing/model';
import { createTeamLists, teamListModels, type TeamLists } from './components/teams/lists';
import {
  practiceModel,
  teamKeyEnvelopeModel,
  teamHeadModel,
  teamModel,
  teamStatementModel,
} from './components/teams/model';
import { ktModels } from './components/transparency/model';
import { TransparencyLog } from './components/transparency/log';
import { UserKeys } from './components/users/keys';
import { userModel } from './components/users/model';
import { userLookupModel } from './components/users/lookups';
import { claimModel } from './lib/claims';
import { InvalidationFeed, invalidationModel, invalidationStartModel } from './lib/invalidations';
import type { AllowedHosts } from './lib/http-security';
import { RateLimiter } from './lib/rate-limit';
import { IdLists } from './lib/store';
import { Turns } from './lib/turns';
import type { ReadCache } from './lib/read-cache';
import type { ServerSecrets } from './lib/secrets';

/** Settings createApp needs; main.ts builds them from config, tests from test defaults. */
export interface AppSettings {
  secrets: ServerSecrets;
  /** False only for plain HTTP on a loopback address: drops Secure and the `__Host-` prefix. */
  secureCookies: boolean;
  /** Allowed Origins for state-changing requests; empty = the request's own host. */
  allowedOrigins: string[];
  /** Host names the server answers (421 for others); `loopback` also allows loopback names. */
  allowedHosts: AllowedHosts;
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
  /** Lifetime of read-cache entries (sessions, records); 0 turns the cache off. */
  readCacheTtlMs: number;
  /** The clock of the rate limiter and of grant expiry (tests move it instead of sleeping); default Date.now. */
  clock?: () => number;
}

export interface RateLimits {
  paramsPerIp: number;
  loginPerIp: number;
  /** Failed logins per account and client per window, before exponential backoff. */
  loginFailuresPerAccount: number;
  recoveryPerIp: number;
  recoveryPerAccount: number;
  registerPerIp: number;
  /** Directory lookups by exact email, per session and per address. */
  directoryEmailPerSession: number;
  directoryEmailPerIp: number;
}

export const defaultRateLimits: RateLimits = {
  paramsPerIp: 300,
  loginPerIp: 100,
  loginFailuresPerAccount: 10,
  recoveryPerIp: 30,
  recoveryPerAccount: 10,
  registerPerIp: 30,
  directoryEmailPerSession: 60,
  directoryEmailPerIp: 200,
};

export function createModels(connection: Connection) {
  return {
    users: userModel(connection),
    userLookups: userLookupModel(connection),
    sessions: sessionModel(connection),
    challenges: challengeModel(connection),
    records: recordModel(connection),
    versions: recordVersionModel(connection),
    listingEntries: feedModel(connection),
    listingHints: feedHintModel(connection),
    attachments: attachmentModel(connection),
    attachmentLinks: attachmentLinkModel(connection),
    chunks: attachmentChunkModel(connection),
    grants: grantModel(connection),
    consents: consentModel(connection),
    consentLists: consentListModel(connection),
    teamGrants: teamGrantModel(connection),
    contacts: contactsModel(connection),
    accountStates: accountStateModel(connection),
    audit: auditModel(connection),
    auditCheckpoints: auditCheckpointModel(connection),
    claims: claimModel(connection),
    invalidations: invalidationModel(connection),
    invalidationStarts: invalidationStartModel(connection),
    practices: practiceModel(connection),
    teams: teamModel(connection),
    teamHeads: teamHeadModel(connection),
    teamStatements: teamStatementModel(connection),
    teamLists: teamListModels(connection),
    teamKeyEnvelopes: teamKeyEnvelopeModel(connection),
    kt: ktModels(connection),
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
  /** Each reader's list of records, by `_id` (components/records/feed.ts). */
  listing: ListingFeed;
  /** New records and versions, inserted with group commit. */
  recordInserts: RecordInserts;
  /** The ways to a team or practice by `_id` other than its id (components/teams/lists.ts). */
  teamLists: TeamLists;
  /** Each patient's consents and each person's consents naming him, by `_id` (components/consents/model.ts). */
  consentLists: IdLists;
  /** Tells this and the other server processes which cached documents a write changed. */
  feed: InvalidationFeed;
  caches: ReadCaches;
  /** The key-transparency log (DESIGN §14). */
  transparency: TransparencyLog;
  /** Each user's writes in this process, one after the other, by user id (auth/use-cases.ts). */
  userWrites: Turns;
  /** Users' registered keys, kept once read (they never change). */
  userKeys: UserKeys;
}

/** Grant expiry of one reader of one record (`expiresAt` null: no grant, or one that does not expire). */
export interface GrantExpiry {
  recordId: string;
  expiresAt: Date | null;
}

export interface AttachmentList {
  recordId: string;
  attachments: AttachmentDoc[];
}

/**
 * What a record GET reads, kept per process (lib/read-cache.ts), dropped by the tags of
 * `cacheTag`. Values are shared between requests: never change one in place.
 */
export interface ReadCaches {
  sessions: ReadCache<SessionDoc>;
  records: ReadCache<RecordDoc>;
  attachments: ReadCache<AttachmentList>;
  grants: ReadCache<GrantExpiry>;
}

/** The invalidation tags of the read caches; a write publishes the tags of what it changed. */
export const cacheTag = {
  session: (tokenHash: string) => `session:${tokenHash}`,
  /** Every session of the user. */
  user: (userId: string) => `user:${userId}`,
  /** The record, its attachment list and its grants. */
  record: (recordId: string) => `record:${recordId}`,
  /**
   * This record, which the user can read (or could until now), changed: for the user's open
   * tabs (components/live). One tag per reader and record, so a notice of several records tells
   * each reader only of theirs.
   */
  readerOf: (userId: string, recordId: string) => `reader:${userId}:${recordId}`,
};

const CACHE_MAX = 10_000;

function createCaches(feed: InvalidationFeed, ttlMs: number): ReadCaches {
  const ofRecord = (v: { recordId: string }) => [cacheTag.record(v.recordId)];
  return {
    sessions: feed.cache<SessionDoc>({
      max: CACHE_MAX,
      ttlMs,
      tagsOf: (v) => [cacheTag.session(v._id), cacheTag.user(v.userId)],
    }),
    records: feed.cache<RecordDoc>({
      max: CACHE_MAX,
      ttlMs,
      tagsOf: (v) => [cacheTag.record(v._id)],
    }),
    attachments: feed.cache<AttachmentList>({ max: CACHE_MAX, ttlMs, tagsOf: ofRecord }),
    grants: feed.cache<GrantExpiry>({ max: CACHE_MAX, ttlMs, tagsOf: ofRecord }),
  };
}

/** The server's time in ms (`settings.clock`, else Date.now): what a grant's expiry is held against. */
export function now(s: Services): number {
  return (s.settings.clock ?? Date.now)();
}

export function createServices(
  connection: Connection,
  logger: Logger,
  settings: AppSettings,
): Services {
  const models = createModels(connection);
  const feed = new InvalidationFeed(models.invalidations, models.invalidationStarts, logger);
  const caches = createCaches(feed, settings.readCacheTtlMs);
  if (settings.readCacheTtlMs > 0) {
    feed.start();
    connection.once('close', () => feed.stop());
  }
  return {
    connection,
    logger,
    settings,
    models,
    limiter: new RateLimiter(connection, settings.rateWindowMs, settings.clock),
    auditLog: new AuditLog(models.audit),
    listing: new ListingFeed(models.listingEntries, models.listingHints),
    recordInserts: recordInserts(models),
    teamLists: createTeamLists(models.teamLists),
    consentLists: new IdLists(models.consentLists),
    feed,
    caches,
    transparency: new TransparencyLog(models.kt, { logKey: settings.secrets.ktLogKey, logger }),
    userWrites: new Turns(),
    userKeys: new UserKeys(models.users),
  };
}
