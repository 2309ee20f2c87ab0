import { mongo, type Connection } from 'mongoose';
import { detectEngine } from '../../src/lib/db';

type Document = Record<string, unknown>;

/** A connection string whose clients report every command they send (the driver's command monitoring, set at connect). */
export function monitored(uri: string): string {
  const url = new URL(uri);
  url.searchParams.set('monitorCommands', 'true');
  return url.toString();
}

/** One filter a command asked the database to answer (a find, count, update, delete, …). */
export interface SentFilter {
  command: string;
  collection: string;
  filter: Record<string, unknown>;
}

/** The filters of one command: a find's, each update's or delete's, an aggregate's first `$match` (none: all). */
function filtersOf(name: string, command: Record<string, unknown>): SentFilter[] {
  const collection = String(command[name]);
  const one = (filter: unknown) => [
    { command: name, collection, filter: (filter ?? {}) as Record<string, unknown> },
  ];
  switch (name) {
    case 'find':
      return one(command.filter);
    case 'count':
    case 'distinct':
    case 'findAndModify':
      return one(command.query);
    case 'update':
      return (command.updates as { q: unknown }[]).flatMap((u) => one(u.q));
    case 'delete':
      return (command.deletes as { q: unknown }[]).flatMap((d) => one(d.q));
    case 'aggregate': {
      const [first] = command.pipeline as Record<string, unknown>[];
      return one(first?.$match);
    }
    default:
      return [];
  }
}

/** Runs `action` and returns the filters of the commands `connection` sent meanwhile (it must be `monitored`). */
export async function filtersSentDuring(
  connection: Connection,
  action: () => Promise<void>,
): Promise<SentFilter[]> {
  const sent: SentFilter[] = [];
  const client = connection.getClient();
  if (!client.options.monitorCommands)
    throw new Error('the connection does not monitor commands: connect with monitored(uri)');
  const listener = (e: { commandName: string; command: Record<string, unknown> }) =>
    sent.push(...filtersOf(e.commandName, e.command));
  client.on('commandStarted', listener);
  try {
    await action();
  } finally {
    client.off('commandStarted', listener);
  }
  return sent;
}

/**
 * The filters the database answers by reading the whole collection, asked of the database
 * itself (`explain`): on FerretDB those not narrowed in SQLite (only a top-level `_id` equal
 * to, or `$in`, strings is; DESIGN §9), on MongoDB those planned as a collection scan.
 */
export async function collectionScans(
  connection: Connection,
  filters: SentFilter[],
): Promise<SentFilter[]> {
  const db = connection.db;
  if (!db) throw new Error('database connection is not open');
  const engine = await detectEngine(connection);
  // A collection not made yet holds nothing to read (FerretDB explains no plan for it).
  const made = new Set(
    (await db.listCollections({}, { nameOnly: true }).toArray()).map((c) => c.name),
  );
  const seen = new Map<string, boolean>();
  const scans: SentFilter[] = [];
  for (const f of filters) {
    const key = JSON.stringify([f.collection, f.filter]);
    let scan = seen.get(key);
    if (scan === undefined && !made.has(f.collection)) scan = false;
    if (scan === undefined) {
      const plan = await db.command({
        explain: { find: f.collection, filter: f.filter },
        verbosity: 'queryPlanner',
      });
      scan =
        engine === 'ferretdb'
          ? plan.filterPushdown !== true
          : JSON.stringify(plan.queryPlanner).includes('COLLSCAN');
      seen.set(key, scan);
    }
    if (scan) scans.push(f);
  }
  return scans;
}

/** One command a connection sent: its name, its collection, the size of its answer (BSON bytes). */
export interface SentCommand {
  command: string;
  collection: string;
  replyBytes: number;
}

/**
 * Runs `action` and returns every command `connection` sent meanwhile that the database answered,
 * with the bytes of each answer (the driver's command monitoring: the connection must be
 * `monitored`). What a request costs the database, in kinds and in bytes read.
 */
export async function commandsSentDuring(
  connection: Connection,
  action: () => Promise<void>,
): Promise<SentCommand[]> {
  const client = connection.getClient();
  if (!client.options.monitorCommands)
    throw new Error('the connection does not monitor commands: connect with monitored(uri)');
  const started = new Map<number, { command: string; collection: string }>();
  const sent: SentCommand[] = [];
  const onStart = (e: { requestId: number; commandName: string; command: Document }) =>
    started.set(e.requestId, {
      command: e.commandName,
      collection: String(e.command[e.commandName]),
    });
  const onDone = (e: { requestId: number; reply: unknown }) => {
    const command = started.get(e.requestId);
    if (command)
      sent.push({ ...command, replyBytes: mongo.BSON.calculateObjectSize(e.reply as Document) });
  };
  client.on('commandStarted', onStart);
  client.on('commandSucceeded', onDone);
  try {
    await action();
  } finally {
    client.off('commandStarted', onStart);
    client.off('commandSucceeded', onDone);
  }
  return sent;
}
