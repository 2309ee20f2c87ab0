// The key-transparency auditor (issue 12): it accepts a log that only grows and fails, with a
// non-zero exit, when the log is rewritten in the database under the same log key.
import { spawn } from 'node:child_process';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { logPublicKeyOf } from '@medseal/crypto';
import { auditOnce, readAuditorState } from '../src/components/transparency/audit';
import { TransparencyLog } from '../src/components/transparency/log';
import { ktModels } from '../src/components/transparency/model';
import { createLogger } from '../src/lib/logger';
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

describe('kt:audit', () => {
  it('when the log only grows, then each round is ok; when it is rewritten under the same key, then the auditor exits non-zero', async () => {
    const state = join(dir, 'state.json');
    const first = await runAuditor([
      '--url',
      server.baseUrl,
      '--log-key',
      logPublicKey,
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
});
