// Key-transparency auditor: `pnpm --filter @medseal/server kt:audit --url http://127.0.0.1:8080
// [--log-key=<base64url>] [--state <file>] [--team=<teamId>]...`. Exit 0: the log only grew,
// its subject map is the one its leaves make (and each watched team has one history); 1: fork,
// rewrite, rollback, a bad signature, a wrong map root (kt-map-mismatch), or a forked or gapped
// team history (the message says which); 2: usage or network error. Teams
// named once stay watched (they are kept in the state file). Keys and team ids are base64url and
// may start with '-': give them with '=' (Node's parseArgs refuses `--log-key -abc` as ambiguous).
import { parseArgs } from 'node:util';
import {
  auditOnce,
  readAuditorState,
  writeAuditorState,
} from '../src/components/transparency/audit';

async function main(): Promise<number> {
  const { values } = parseArgs({
    options: {
      url: { type: 'string' },
      'log-key': { type: 'string' },
      state: { type: 'string', default: 'kt-audit-state.json' },
      team: { type: 'string', multiple: true },
    },
  });
  const url = values.url;
  const statePath = values.state ?? 'kt-audit-state.json';
  if (!url) {
    console.error(
      'usage: kt:audit --url <server> [--log-key=<base64url>] [--state <file>] [--team=<teamId>]...',
    );
    return 2;
  }
  const state = await readAuditorState(statePath);
  if (state && state.url !== url) {
    console.error(
      `${statePath} holds the view of ${state.url}, not ${url}: use another --state file.`,
    );
    return 2;
  }
  const logPublicKey = values['log-key'] ?? state?.logPublicKey;
  if (!logPublicKey) {
    console.error(
      'The first audit of a log needs its public key: --log-key=<base64url> (the one the web app is built with).',
    );
    return 2;
  }
  if (state && state.logPublicKey !== logPublicKey) {
    console.error(
      'FAIL: the log key differs from the one this auditor stored: a log key must never change.',
    );
    return 1;
  }
  const teams = { ...state?.teams };
  for (const teamId of values.team ?? []) teams[teamId] ??= [];
  const result = await auditOnce({
    url,
    logPublicKey,
    stored: state?.head ?? null,
    teams,
    ...(state?.map ? { map: state.map } : {}),
  });
  if (result.status === 'failed') {
    console.error(`FAIL (${result.code}): ${result.message}`);
    console.error(`stored head: ${JSON.stringify(result.stored)}`);
    console.error(`served head: ${JSON.stringify(result.served)}`);
    return 1;
  }
  await writeAuditorState(statePath, {
    v: 1,
    url,
    logPublicKey,
    head: result.head,
    teams: result.teams,
    map: result.map,
  });
  const from = result.previousSize === null ? 'first view' : `from size ${result.previousSize}`;
  const watched = Object.entries(result.teams).map(
    ([id, chain]) => `${id}: ${chain.length} changes`,
  );
  console.log(
    `OK: tree of ${result.head.size} leaves, root ${result.head.root}, map of ${result.map.entries.length} subjects, signed ${new Date(result.head.timestamp).toISOString()} (${from})${watched.length > 0 ? `; teams ${watched.join(', ')}` : ''}`,
  );
  return 0;
}

main().then(
  (code) => process.exit(code),
  (error: unknown) => {
    console.error(`ERROR: ${error instanceof Error ? error.message : String(error)}`);
    process.exit(2);
  },
);
