import { readFile, rename, writeFile } from 'node:fs/promises';
import { consistencyResponseSchema, signedTreeHeadSchema } from '@medseal/contract';
import { checkHeadUpdate, verifyTreeHead, type SignedTreeHead } from '../../lib/pgp';

/** What an auditor keeps between runs: the log key it trusts and the newest head it checked. */
export interface AuditorState {
  v: 1;
  url: string;
  logPublicKey: string;
  head: SignedTreeHead;
}

export type AuditResult =
  | { status: 'ok'; head: SignedTreeHead; previousSize: number | null }
  /** A bad signature, a rollback, or a tree that does not extend the one seen before (fork, rewrite). */
  | { status: 'failed'; code: string; message: string; stored: SignedTreeHead; served: unknown };

async function getJson(url: string): Promise<unknown> {
  const res = await fetch(url, { headers: { accept: 'application/json' } });
  if (!res.ok) throw new Error(`GET ${url}: HTTP ${res.status} ${await res.text()}`);
  return res.json();
}

/**
 * One audit round (DESIGN §14 "anyone can audit"): fetch the newest signed head, check its
 * signature and that it extends the head of the previous round (RFC 9162 consistency), the very
 * checks a client runs. The caller stores the new head only on `ok`.
 * @throws Error when the log cannot be reached or answers something that is not a head.
 */
export async function auditOnce(opts: {
  url: string;
  logPublicKey: string;
  stored: SignedTreeHead | null;
}): Promise<AuditResult> {
  const api = `${opts.url.replace(/\/+$/, '')}/api/kt`;
  const head = signedTreeHeadSchema.parse(await getJson(`${api}/head`));
  const { stored } = opts;
  try {
    if (stored === null) {
      verifyTreeHead(head, opts.logPublicKey);
      return { status: 'ok', head, previousSize: null };
    }
    const proof =
      head.size >= stored.size
        ? consistencyResponseSchema.parse(
            await getJson(`${api}/consistency?from=${stored.size}&to=${head.size}`),
          ).proof
        : [];
    checkHeadUpdate({ stored, next: head, consistency: proof, logPublicKey: opts.logPublicKey });
    return { status: 'ok', head, previousSize: stored.size };
  } catch (error) {
    const code = (error as { code?: unknown }).code;
    if (typeof code === 'string' && code.startsWith('kt-')) {
      return {
        status: 'failed',
        code,
        message: (error as Error).message,
        stored: stored ?? head,
        served: head,
      };
    }
    throw error;
  }
}

export async function readAuditorState(path: string): Promise<AuditorState | null> {
  try {
    return JSON.parse(await readFile(path, 'utf8')) as AuditorState;
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'ENOENT') return null;
    throw error;
  }
}

export async function writeAuditorState(path: string, state: AuditorState): Promise<void> {
  const tmp = `${path}.${process.pid}.tmp`;
  await writeFile(tmp, `${JSON.stringify(state, null, 2)}\n`);
  await rename(tmp, path);
}
