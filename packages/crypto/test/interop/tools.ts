// Helpers for the interop tests: run the Debian OpenPGP tools on temp files and make the
// key material they need from our keys (exported the way the user's "export my data" does).
import { spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { exportPrivateKey, sealFile, sealRecord, type GeneratedUserKey } from '../../src';
import { canonicalJson } from '../../src/encoding';
import { makeUser, sampleEnvelope } from '../helpers';

export const PASSPHRASE = 'interop export passphrase';

export interface RunResult {
  status: number | null;
  stdout: Buffer;
  stderr: string;
}

export function run(
  cmd: string,
  args: string[],
  opts: { input?: Uint8Array | string; env?: Record<string, string>; cwd?: string } = {},
): RunResult {
  const result = spawnSync(cmd, args, {
    input: opts.input,
    env: { ...process.env, ...opts.env },
    cwd: opts.cwd,
    timeout: 60_000,
    maxBuffer: 64 * 1024 * 1024,
  });
  if (result.error) throw result.error;
  return { status: result.status, stdout: result.stdout, stderr: result.stderr.toString('utf8') };
}

/** Runs and fails with the tool's stderr when the exit status is not 0. */
export function runOk(
  cmd: string,
  args: string[],
  opts: Parameters<typeof run>[2] = {},
): RunResult {
  const result = run(cmd, args, opts);
  if (result.status !== 0)
    throw new Error(`${cmd} ${args.join(' ')} exited ${String(result.status)}:\n${result.stderr}`);
  return result;
}

export class TempDir {
  readonly path = mkdtempSync(join(tmpdir(), 'medseal-'));
  file(name: string, content?: string | Uint8Array): string {
    const p = join(this.path, name);
    if (content !== undefined) writeFileSync(p, content);
    return p;
  }
  read(name: string): Buffer {
    return readFileSync(join(this.path, name));
  }
  remove(): void {
    rmSync(this.path, { recursive: true, force: true });
  }
}

export interface Scenario {
  author: GeneratedUserKey;
  reader: GeneratedUserKey;
  /** reader's private key in the export format (iterated S2K under PASSPHRASE) */
  readerExported: string;
  authorExported: string;
  /** plaintextPrefix: the canonical envelope JSON and the newline before the padding */
  record: { message: string; plaintextPrefix: string };
  attachment: { message: Uint8Array; data: Uint8Array };
}

/** An author, a reader, one record and one 1 MiB attachment sealed by the author to the reader. */
export async function makeScenario(): Promise<Scenario> {
  const [author, reader] = await Promise.all([
    makeUser('InteropAuthor'),
    makeUser('InteropReader'),
  ]);
  const [readerExported, authorExported] = await Promise.all([
    exportPrivateKey({ privateKey: reader.privateKey, passphrase: PASSPHRASE }),
    exportPrivateKey({ privateKey: author.privateKey, passphrase: PASSPHRASE }),
  ]);
  const sealed = await sealRecord({
    envelope: sampleEnvelope,
    authorKey: author.privateKey,
    recipientKeys: [reader.publicKey, author.publicKey],
  });
  const data = new Uint8Array(1024 * 1024).map((_, i) => (i * 7919) & 0xff);
  const file = await sealFile({
    data,
    authorKey: author.privateKey,
    recipientKeys: [reader.publicKey],
  });
  return {
    author,
    reader,
    readerExported,
    authorExported,
    record: { message: sealed.message, plaintextPrefix: canonicalJson(sealed.envelope) + '\n' },
    attachment: { message: file.message, data },
  };
}
