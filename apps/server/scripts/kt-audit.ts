// Key-transparency auditor: `pnpm --filter @medseal/server kt:audit --url http://127.0.0.1:8080
// [--log-key <base64url>] [--state <file>]`. Exit 0: the log only grew; 1: fork, rewrite,
// rollback or a bad signature (the message says which); 2: usage or network error.
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
    },
  });
  const url = values.url;
  const statePath = values.state ?? 'kt-audit-state.json';
  if (!url) {
    console.error('usage: kt:audit --url <server> [--log-key <base64url>] [--state <file>]');
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
      'The first audit of a log needs its public key: --log-key <base64url> (the one the web app is built with).',
    );
    return 2;
  }
  if (state && state.logPublicKey !== logPublicKey) {
    console.error(
      'FAIL: the log key differs from the one this auditor stored: a log key must never change.',
    );
    return 1;
  }
  const result = await auditOnce({ url, logPublicKey, stored: state?.head ?? null });
  if (result.status === 'failed') {
    console.error(`FAIL (${result.code}): ${result.message}`);
    console.error(`stored head: ${JSON.stringify(result.stored)}`);
    console.error(`served head: ${JSON.stringify(result.served)}`);
    return 1;
  }
  await writeAuditorState(statePath, { v: 1, url, logPublicKey, head: result.head });
  const from = result.previousSize === null ? 'first view' : `from size ${result.previousSize}`;
  console.log(
    `OK: tree of ${result.head.size} leaves, root ${result.head.root}, signed ${new Date(result.head.timestamp).toISOString()} (${from})`,
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
