import { Schema, type Connection } from 'mongoose';
import type { Logger } from 'pino';
import { migrateAttachmentLinks } from './components/records/attachment-list';
import { ListingFeed, migrateListingFeed } from './components/records/feed';
import { TransparencyLog } from './components/transparency/log';
import { migrateEmailCommitments } from './components/transparency/use-cases';
import { createTeamLists, migrateTeamLists } from './components/teams/lists';
import { migrateConsentLists } from './components/consents/model';
import { migrateUserLookups } from './components/users/lookups';
import { IdLists } from './lib/store';
import { isDuplicateKey } from './lib/db';
import { modelOn } from './lib/model';
import { createModels, type Models } from './services';

/** A migration that completed; its `_id` names it. */
interface MigrationDoc {
  _id: string;
  at: Date;
}

const migrationSchema = new Schema<MigrationDoc>(
  { _id: { type: String, required: true }, at: { type: Date, required: true } },
  { versionKey: false, strict: 'throw' },
);

export const migrationModel = (c: Connection) =>
  modelOn(c, 'Migration', migrationSchema, 'migrations');

/** What a migration may need besides the database. */
interface MigrationContext {
  logger: Logger;
  /** The key-transparency log key (the server signs heads with it). */
  ktLogKey: string;
}

/** In order. Each is idempotent: several processes may run one at once, and a run may die half-way. */
const MIGRATIONS: {
  id: string;
  run: (models: Models, ctx: MigrationContext) => Promise<unknown>;
}[] = [
  {
    id: 'listing-feed-1',
    run: (models, { logger }) =>
      migrateListingFeed({
        records: models.records,
        feed: new ListingFeed(models.listingEntries, models.listingHints),
        logger,
      }),
  },
  { id: 'attachment-links-1', run: (models, { logger }) => migrateAttachmentLinks(models, logger) },
  {
    id: 'team-lists-1',
    run: (models, { logger }) =>
      migrateTeamLists({
        teams: models.teams,
        practices: models.practices,
        lists: createTeamLists(models.teamLists),
        logger,
      }),
  },
  // Heads from before the subject map (issue 12) get their map and are signed again as v2.
  {
    id: 'kt-map-1',
    run: (models, { logger, ktLogKey }) =>
      new TransparencyLog(models.kt, { logKey: ktLogKey, logger }).migrateMap(),
  },
  {
    id: 'consent-lists-1',
    run: (models, { logger }) =>
      migrateConsentLists({
        consents: models.consents,
        lists: new IdLists(models.consentLists),
        logger,
      }),
  },
  { id: 'user-lookups-1', run: (models, { logger }) => migrateUserLookups(models, logger) },
  // Key leaves that hold the email get a successor that commits to it (a version 2 leaf).
  {
    id: 'kt-email-commitment-1',
    run: (models, { logger, ktLogKey }) =>
      migrateEmailCommitments(
        models,
        new TransparencyLog(models.kt, { logKey: ktLogKey, logger }),
        logger,
      ),
  },
];

/**
 * Runs, before the server listens, each migration not recorded as done, and records it.
 * `again` runs the recorded ones too (`pnpm migrate`): a process of the release before a
 * migration, still running during a rolling deploy, keeps writing the old way after the first
 * new process ran it (records without feed entries, files without links), which only a run
 * after the last old process stopped picks up.
 */
export async function runMigrations(
  connection: Connection,
  logger: Logger,
  options: { again?: boolean; ktLogKey: string },
): Promise<void> {
  const models = createModels(connection);
  const done = migrationModel(connection);
  for (const m of MIGRATIONS) {
    if (!options.again && (await done.exists({ _id: m.id }))) continue;
    await m.run(models, { logger, ktLogKey: options.ktLogKey });
    await done.create({ _id: m.id, at: new Date() }).catch((error: unknown) => {
      if (!isDuplicateKey(error)) throw error;
    });
  }
}
