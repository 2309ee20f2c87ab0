import { Schema, type Connection } from 'mongoose';
import type { Logger } from 'pino';
import { migrateAttachmentLinks } from './components/records/attachment-list';
import { ListingFeed, migrateListingFeed } from './components/records/feed';
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

/** In order. Each is idempotent: several processes may run one at once, and a run may die half-way. */
const MIGRATIONS: { id: string; run: (models: Models, logger: Logger) => Promise<unknown> }[] = [
  {
    id: 'listing-feed-1',
    run: (models, logger) =>
      migrateListingFeed({
        records: models.records,
        feed: new ListingFeed(models.listingEntries, models.listingHints),
        logger,
      }),
  },
  { id: 'attachment-links-1', run: (models, logger) => migrateAttachmentLinks(models, logger) },
];

/** Runs, before the server listens, each migration not recorded as done, and records it. */
export async function runMigrations(connection: Connection, logger: Logger): Promise<void> {
  const models = createModels(connection);
  const done = migrationModel(connection);
  for (const m of MIGRATIONS) {
    if (await done.exists({ _id: m.id })) continue;
    await m.run(models, logger);
    await done.create({ _id: m.id, at: new Date() }).catch((error: unknown) => {
      if (!isDuplicateKey(error)) throw error;
    });
  }
}
