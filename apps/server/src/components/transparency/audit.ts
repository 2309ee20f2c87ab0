import { readFile, rename, writeFile } from 'node:fs/promises';
import { setTimeout as sleep } from 'node:timers/promises';
import {
  KT_LEAVES_PAGE,
  consistencyResponseSchema,
  ktHistoryResponseSchema,
  ktLeavesResponseSchema,
  signedTreeHeadSchema,
} from '@medseal/contract';
import {
  auditTeamLeaves,
  checkHeadUpdate,
  extendFrontier,
  foldRange,
  MemoryMap,
  verifyTreeHead,
  type MapEntry,
  type SignedTreeHead,
} from '../../lib/pgp';

/** Statement hashes by seq of each team an auditor watches (team id → hashes). */
export type AuditedTeams = Record<string, string[]>;

/**
 * The log as an auditor recomputed it from the leaves' hashes and subject keys, up to `size`:
 * the log's frontier (rootPlan(size) hashes, hex) and every entry of the subject map.
 */
export interface AuditedMap {
  size: number;
  frontier: string[];
  entries: MapEntry[];
}

/**
 * What an auditor keeps between runs: the log key it trusts, the newest head it checked, the
 * chain of each team it watches, and the log it recomputed (absent in a state from before the
 * map: the next round recomputes from leaf 0).
 */
export interface AuditorState {
  v: 1;
  url: string;
  logPublicKey: string;
  head: SignedTreeHead;
  teams?: AuditedTeams;
  map?: AuditedMap;
}

export type AuditResult =
  | {
      status: 'ok';
      head: SignedTreeHead;
      previousSize: number | null;
      teams: AuditedTeams;
      map: AuditedMap;
    }
  /** A bad signature, a rollback, or a tree that does not extend the one seen before (fork, rewrite). */
  | { status: 'failed'; code: string; message: string; stored: SignedTreeHead; served: unknown };

/** Pauses before each retry of an answer a server gives while it cannot answer now. */
const RETRY_MS = [500, 1_000, 2_000, 4_000];
/** A gateway or the server itself saying "not now" (the server's database took over 2.5 s: 503). */
const TRANSIENT = new Set([502, 503, 504]);

class HttpError extends Error {
  constructor(
    readonly status: number,
    message: string,
  ) {
    super(message);
  }
}

async function getOnce(url: string): Promise<unknown> {
  const res = await fetch(url, { headers: { accept: 'application/json' } });
  if (!res.ok)
    throw new HttpError(res.status, `GET ${url}: HTTP ${res.status} ${await res.text()}`);
  return res.json();
}

/**
 * GET with retries: a network error or a transient status is asked again (after 0.5, 1, 2 and
 * 4 s), since a server under load answers 503 `database-unavailable` when its database takes
 * longer than its operation timeout (2.5 s); any other status, or the last failure, throws.
 */
async function getJson(url: string): Promise<unknown> {
  for (let attempt = 0; ; attempt++) {
    try {
      return await getOnce(url);
    } catch (error) {
      const transient = !(error instanceof HttpError) || TRANSIENT.has(error.status);
      const pause = RETRY_MS[attempt];
      if (!transient || pause === undefined) throw error;
      await sleep(pause);
    }
  }
}

const fail = (code: string, message: string) => Object.assign(new Error(message), { code });

/**
 * Recomputes both roots of `head` from the leaves appended since `from` (their hashes and
 * subject keys, never their text): the log's root proves the hashes are the log's, and the map's
 * root must be the one the head signs, else the map the clients check listings against is not
 * the log's (issue 12).
 * @throws Error with code `kt-no-map` (a head without a map), `kt-inconsistent` (the leaves are
 *   not the head's tree), `kt-map-mismatch` (the signed map root is not the leaves' map).
 */
async function recomputeMap(
  api: string,
  head: SignedTreeHead,
  from: AuditedMap,
): Promise<AuditedMap> {
  if (head.v !== 2) throw fail('kt-no-map', `the head of size ${head.size} signs no subject map`);
  const map = new MemoryMap();
  for (const entry of from.entries) await map.set(entry);
  let frontier: Uint8Array[] = from.frontier.map((h) => Uint8Array.from(Buffer.from(h, 'hex')));
  for (let start = from.size; start < head.size; start += KT_LEAVES_PAGE) {
    const to = Math.min(start + KT_LEAVES_PAGE, head.size);
    const { leaves } = ktLeavesResponseSchema.parse(
      await getJson(`${api}/leaves?from=${start}&to=${to}`),
    );
    for (const [k, leaf] of leaves.entries()) {
      if (leaf.index !== start + k)
        throw fail('kt-inconsistent', 'the log served leaves out of order');
      const hash = Uint8Array.from(Buffer.from(leaf.hash, 'hex'));
      frontier = extendFrontier(frontier, leaf.index, hash);
      await map.appendToKey(leaf.key, leaf.index, hash);
    }
    if (leaves.length !== to - start)
      throw fail('kt-inconsistent', 'the log served too few leaves');
  }
  if (Buffer.from(foldRange(frontier)).toString('hex') !== head.root)
    throw fail(
      'kt-inconsistent',
      `the leaves the log served are not its tree of size ${head.size}`,
    );
  if (map.root !== head.mapRoot)
    throw fail(
      'kt-map-mismatch',
      `the head of size ${head.size} signs map root ${head.mapRoot}, but its leaves make ${map.root}`,
    );
  return {
    size: head.size,
    frontier: frontier.map((h) => Buffer.from(h).toString('hex')),
    entries: map.entries(),
  };
}

/**
 * One audit round (DESIGN §14 "anyone can audit"): fetch the newest signed head, check its
 * signature and that it extends the head of the previous round (RFC 9162 consistency), the very
 * checks a client runs; recompute the log's and the subject map's roots from the leaves
 * appended since (`recomputeMap`); then, for each watched team, that its leaves under the new
 * head form one chain that extends the one seen before (`auditTeamLeaves`: a forked or gapped
 * team history, or a listing that withholds a leaf, fails). The caller stores the new head,
 * chains and map only on `ok`.
 * @throws Error when the log cannot be reached or answers something that is not a head.
 */
export async function auditOnce(opts: {
  url: string;
  logPublicKey: string;
  stored: SignedTreeHead | null;
  /** Teams to watch, with the chains seen in the previous round (empty for a new team). */
  teams?: AuditedTeams;
  /** The log recomputed in the previous round (none: from leaf 0). */
  map?: AuditedMap;
}): Promise<AuditResult> {
  const api = `${opts.url.replace(/\/+$/, '')}/api/kt`;
  const head = signedTreeHeadSchema.parse(await getJson(`${api}/head`));
  const { stored } = opts;
  try {
    if (stored === null) {
      verifyTreeHead(head, opts.logPublicKey);
    } else {
      const proof =
        head.size >= stored.size
          ? consistencyResponseSchema.parse(
              await getJson(`${api}/consistency?from=${stored.size}&to=${head.size}`),
            ).proof
          : [];
      checkHeadUpdate({ stored, next: head, consistency: proof, logPublicKey: opts.logPublicKey });
    }
    // The previous round's log, when it is the one of the stored head (checked to extend).
    const previous =
      opts.map && stored && opts.map.size === stored.size && opts.map.size <= head.size
        ? opts.map
        : { size: 0, frontier: [], entries: [] };
    const map = await recomputeMap(api, head, previous);
    const teams: AuditedTeams = {};
    for (const [teamId, known] of Object.entries(opts.teams ?? {})) {
      const history = ktHistoryResponseSchema.parse(
        await getJson(`${api}/teams/${encodeURIComponent(teamId)}/history?size=${head.size}`),
      );
      teams[teamId] = auditTeamLeaves({
        head,
        teamId,
        history: history.bindings,
        map: history.map,
        known,
      });
    }
    return { status: 'ok', head, previousSize: stored?.size ?? null, teams, map };
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
