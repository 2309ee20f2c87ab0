// The key-transparency auditor (issue 12): it accepts a log that only grows and fails, with a
// non-zero exit, when the log is rewritten in the database under the same log key.
import { spawn } from 'node:child_process';
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import {
  encodeBinding,
  logPublicKeyOf,
  signTreeHead,
  teamStatementBindingOf,
  teamSubject,
} from '@medseal/crypto';
import { auditOnce, readAuditorState } from '../src/components/transparency/audit';
import { TransparencyLog } from '../src/components/transparency/log';
import { ktModels } from '../src/components/transparency/model';
import { createLogger } from '../src/lib/logger';
import { addMember, createPracticeAs, createTeamAs } from './helpers/teams';
import { registerUser } from './helpers/users';
import { startTestServer, type TestServer } from './support';

let server: TestServer;
let dir: string;
let logPublicKey: string;
beforeAll(async () => {
  server = await startTestServer();
  dir = await mkdtemp(join(tmpdir(), 'medseal-kt-audit-'));
  logPublicKey = logPublicKeyOf(server.settings.secrets.ktLogKey);
  await registerUser(server.baseUrl, { name: 'Dr One', role: 'doctor' });
});
afterAll(async () => {
  await server.close();
  await rm(dir, { recursive: true, force: true });
});

/** Runs the real command (`pnpm --filter @medseal/server kt:audit`'s script). */
function runAuditor(args: string[]): Promise<{ code: number | null; out: string }> {
  const child = spawn(process.execPath, ['--import', 'tsx', 'scripts/kt-audit.ts', ...args], {
    cwd: join(__dirname, '..'),
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let out = '';
  child.stdout.on('data', (c: Buffer) => (out += c.toString('utf8')));
  child.stderr.on('data', (c: Buffer) => (out += c.toString('utf8')));
  return new Promise((resolve) => child.once('exit', (code) => resolve({ code, out })));
}

/**
 * A front of the server that answers its first `failures` requests with 503
 * `database-unavailable`, as the server does when a database operation takes over its 2.5 s
 * timeout (on a loaded machine: this test's exit code 2 twice, before the auditor retried).
 */
async function flakyFront(failures: number) {
  let left = failures;
  const front = createServer((req, res) => {
    if (left-- > 0) {
      res.writeHead(503, { 'content-type': 'application/json' });
      res.end(JSON.stringify({ error: { code: 'database-unavailable', message: 'not now' } }));
      return;
    }
    void fetch(`${server.baseUrl}${req.url ?? '/'}`).then(async (real) => {
      res.writeHead(real.status, { 'content-type': real.headers.get('content-type') ?? '' });
      res.end(Buffer.from(await real.arrayBuffer()));
    });
  });
  await new Promise<void>((resolve) => front.listen(0, '127.0.0.1', resolve));
  return {
    url: `http://127.0.0.1:${(front.address() as AddressInfo).port}`,
    close: () => new Promise<void>((resolve) => front.close(() => resolve())),
  };
}

describe('kt:audit', () => {
  it('when the log only grows, then each round is ok; when it is rewritten under the same key, then the auditor exits non-zero', async () => {
    const state = join(dir, 'state.json');
    const first = await runAuditor([
      '--url',
      server.baseUrl,
      `--log-key=${logPublicKey}`,
      '--state',
      state,
    ]);
    // With its output, so a failure says why (an exit code 2 is an error before any check).
    expect(first).toEqual({ code: 0, out: expect.stringMatching(/^OK: tree of 1 leaves/) });

    await registerUser(server.baseUrl, { name: 'Dr Two', role: 'doctor' });
    const stored = (await readAuditorState(state))?.head ?? null;
    expect(await auditOnce({ url: server.baseUrl, logPublicKey, stored })).toMatchObject({
      status: 'ok',
      previousSize: 1,
      head: { size: 2 },
    });

    // The operator rewrites history: a new tree, validly signed, whose first leaf differs.
    const models = ktModels(server.connection);
    await Promise.all(
      Object.values(models).map((m: { deleteMany(f: object): Promise<unknown> }) =>
        m.deleteMany({}),
      ),
    );
    const forged = new TransparencyLog(models, {
      logKey: server.settings.secrets.ktLogKey,
      logger: createLogger('silent'),
    });
    for (let i = 0; i < 3; i++) await forged.append(JSON.stringify({ forged: i }), 'someone');

    expect(await auditOnce({ url: server.baseUrl, logPublicKey, stored })).toMatchObject({
      status: 'failed',
      code: 'kt-inconsistent',
    });
    const second = await runAuditor(['--url', server.baseUrl, '--state', state]);
    expect(second.code).toBe(1);
    expect(second.out).toMatch(/FAIL \(kt-inconsistent\)/);
  });

  it('when the log serves a smaller tree or a head signed by another key, then the round fails', async () => {
    const head = await auditOnce({ url: server.baseUrl, logPublicKey, stored: null });
    if (head.status !== 'ok') throw new Error('first round failed');
    const bigger = { ...head.head, size: head.head.size + 10 };
    expect(await auditOnce({ url: server.baseUrl, logPublicKey, stored: bigger })).toMatchObject({
      status: 'failed',
      code: 'kt-head-older',
    });
    const other = logPublicKeyOf(Buffer.alloc(32, 7).toString('base64url'));
    expect(
      await auditOnce({ url: server.baseUrl, logPublicKey: other, stored: null }),
    ).toMatchObject({ status: 'failed', code: 'kt-bad-head-signature' });
  });

  it('when it watches a team, then one history passes; a second statement logged for one change fails the round and the command', async () => {
    const admin = await registerUser(server.baseUrl, { name: 'Dr Admin', role: 'doctor' });
    const member = await registerUser(server.baseUrl, { name: 'Dr Member', role: 'doctor' });
    const team = await createTeamAs(admin, await createPracticeAs(admin));
    await addMember(team, admin, member);
    const first = await auditOnce({
      url: server.baseUrl,
      logPublicKey,
      stored: null,
      teams: { [team.id]: [] },
    });
    if (first.status !== 'ok') throw new Error(`first round: ${first.message}`);
    expect(first.teams[team.id]).toEqual([expect.any(String), team.state.head]);

    // The operator logs another change 1 for the team (what a second history shown to others needs).
    const forged = new TransparencyLog(ktModels(server.connection), {
      logKey: server.settings.secrets.ktLogKey,
      logger: createLogger('silent'),
    });
    const other = {
      ...teamStatementBindingOf(team.state, Date.now()),
      statementHash: 'A'.repeat(43),
    };
    await forged.append(encodeBinding(other), teamSubject(team.id));
    expect(
      await auditOnce({
        url: server.baseUrl,
        logPublicKey,
        stored: first.head,
        teams: first.teams,
      }),
    ).toMatchObject({ status: 'failed', code: 'kt-team-fork' });
    const cli = await runAuditor([
      '--url',
      server.baseUrl,
      `--log-key=${logPublicKey}`,
      '--state',
      join(dir, 'teams.json'),
      `--team=${team.id}`,
    ]);
    expect(cli).toEqual({ code: 1, out: expect.stringMatching(/FAIL \(kt-team-fork\)/) });
  });

  it('when a head signs a map root its leaves do not make (a leaf left out of its subject’s entry), then the round fails kt-map-mismatch and the command exits 1', async () => {
    const state = join(dir, 'map.json');
    const args = ['--url', server.baseUrl, `--log-key=${logPublicKey}`, '--state', state];
    expect(await runAuditor(args)).toMatchObject({ code: 0 });
    const before = await readAuditorState(state);
    expect(before?.map?.size).toBe(before?.head.size);

    // The operator logs a key for a victim and signs the new head with the map from before it,
    // so the victim's entry (and so their listing) does not count the leaf.
    const models = ktModels(server.connection);
    const log = new TransparencyLog(models, {
      logKey: server.settings.secrets.ktLogKey,
      logger: createLogger('silent'),
    });
    const index = await log.append(JSON.stringify({ rogue: 1 }), 'victim');
    const previous = await models.heads.findById(index).lean();
    const latest = await models.heads.findById(index + 1).lean();
    if (!previous?.mapRoot || !latest) throw new Error('no heads');
    const forged = signTreeHead(
      {
        v: 2,
        size: index + 1,
        root: latest.root,
        mapRoot: previous.mapRoot,
        timestamp: latest.timestamp,
      },
      server.settings.secrets.ktLogKey,
    );
    await models.heads.replaceOne(
      { _id: index + 1 },
      { ...latest, mapRoot: previous.mapRoot, signature: forged.signature },
    );

    expect(
      await auditOnce({
        url: server.baseUrl,
        logPublicKey,
        stored: before?.head ?? null,
        ...(before?.map ? { map: before.map } : {}),
      }),
    ).toMatchObject({ status: 'failed', code: 'kt-map-mismatch' });
    // From the first leaf too (an auditor new to this log).
    expect(await auditOnce({ url: server.baseUrl, logPublicKey, stored: null })).toMatchObject({
      status: 'failed',
      code: 'kt-map-mismatch',
    });
    const cli = await runAuditor(args);
    expect(cli).toEqual({ code: 1, out: expect.stringMatching(/FAIL \(kt-map-mismatch\)/) });
    // The honest head again: the round passes.
    await models.heads.replaceOne({ _id: index + 1 }, latest);
    expect(await runAuditor(args)).toMatchObject({ code: 0 });
  });

  it('when the server answers 503 for a while (its database timing out under load), then the auditor asks again and its round passes', async () => {
    const front = await flakyFront(2);
    try {
      const run = await runAuditor([
        '--url',
        front.url,
        `--log-key=${logPublicKey}`,
        '--state',
        join(dir, 'flaky.json'),
      ]);
      expect(run).toEqual({ code: 0, out: expect.stringMatching(/^OK: tree of/) });
    } finally {
      await front.close();
    }
  });
});
