// The malicious server of issue 10 (DESIGN §12–§13): an operator who rewrites any API answer
// (Playwright routes in the victim's browser) and any stored document (the test database), but
// not the app's JavaScript. Besides the attacks, the oracles the suites judge by: what the
// browser sent (captured requests, opened with the attacker's own key) and what it shows.
import { randomBytes } from 'node:crypto';
import { get as httpGet } from 'node:http';
import type { Locator, Page, Request, Route } from 'playwright-core';
import {
  bindingLeafHash,
  inspectMessage,
  openFile,
  parseBinding,
  signTreeHead,
  subjectOf,
  readPublicKey,
  recipientKeyIdOf,
  splitRecipientPackets,
  type UnlockedKey,
} from '@medseal/crypto';
import type {
  DirectoryResponse,
  DirectoryUser,
  Recipient,
  RecordDto,
  RecordListResponse,
} from '@medseal/contract';
import { memoryKtMap, memoryLog } from '@medseal/crypto/testing';
import type { TestServer } from '@medseal/server/testing';
import type { CapturedRequest } from './browser';

/** A string only the attacker writes: seeing it on the page means forged data was shown. */
export function forgedMarker(prefix = 'FORGED'): string {
  return `${prefix}-${randomBytes(5).toString('hex')}`;
}

// ---------------------------------------------------------------------------------------------
// Rewriting API answers in the victim's browser

/** Which API requests an attack answers: the method and the path (no query), exact or a pattern. */
export interface ApiMatch {
  method?: 'GET' | 'POST' | 'PUT' | 'DELETE';
  path: string | RegExp;
}

/**
 * A running attack. `hits` counts the requests it answered: a test asserts it is above 0, so an
 * attack aimed at an endpoint the app no longer calls fails loudly instead of passing vacuously.
 */
export interface Attack {
  readonly hits: number;
  stop(): Promise<void>;
}

const isApi = (url: URL) => url.pathname.startsWith('/api/');

function matches(request: Request, match: ApiMatch): boolean {
  if (match.method && request.method() !== match.method) return false;
  const { pathname } = new URL(request.url());
  return typeof match.path === 'string' ? pathname === match.path : match.path.test(pathname);
}

async function intercept(
  page: Page,
  match: ApiMatch,
  answer: (route: Route) => Promise<void>,
): Promise<Attack> {
  let hits = 0;
  let stopped = false;
  const answering = new Set<Promise<void>>();
  const handler = async (route: Route) => {
    if (stopped || !matches(route.request(), match)) return route.fallback();
    hits += 1;
    const answered = answer(route);
    answering.add(answered);
    try {
      await answered;
    } finally {
      answering.delete(answered);
    }
  };
  await page.route(isApi, handler);
  return {
    get hits() {
      return hits;
    },
    // Unrouting while an answer is on its way (route.fetch, then fulfill) makes the browser
    // continue that request itself, and the answer's fulfill then fails with "Route is already
    // handled!": refuse new requests first, let the ones under way finish, then unroute.
    // A device closed by its test took its routes with it.
    stop: async () => {
      stopped = true;
      await Promise.allSettled(answering);
      if (!page.isClosed()) await page.unroute(isApi, handler);
    },
  };
}

/** Lets the real server answer, then changes its JSON before the app sees it. Error answers pass unchanged. */
export function rewriteJson<T>(
  page: Page,
  match: ApiMatch,
  edit: (body: T) => T | Promise<T>,
): Promise<Attack> {
  return intercept(page, match, async (route) => {
    const response = await route.fetch();
    if (!response.ok()) return route.fulfill({ response });
    await route.fulfill({ response, json: await edit((await response.json()) as T) });
  });
}

/** Answers without asking the real server (e.g. a 204 for a revoke the server never does). */
export function answerWithout(
  page: Page,
  match: ApiMatch,
  answer: { status: number; json?: unknown },
): Promise<Attack> {
  return intercept(page, match, (route) =>
    route.fulfill({
      status: answer.status,
      ...(answer.json === undefined ? {} : { json: answer.json }),
    }),
  );
}

/** Answers from the request's URL alone, without asking the real server (e.g. a forked log's proofs). */
export function answerFrom(
  page: Page,
  match: ApiMatch,
  answer: (
    url: URL,
  ) => { status: number; json: unknown } | Promise<{ status: number; json: unknown }>,
): Promise<Attack> {
  return intercept(page, match, async (route) =>
    route.fulfill(await answer(new URL(route.request().url()))),
  );
}

/** Stops every attack of a test (routes of one page). */
export async function stopAll(attacks: Attack[]): Promise<void> {
  const running = attacks.splice(0);
  await Promise.all(running.map((a) => a.stop()));
}

/**
 * What the real server answers a GET with this browser's session (the operator can read it all
 * anyway). Not through the page (its routes would rewrite it) and on a fresh connection each
 * time: a kept-alive one can meet the server closing it when idle (ECONNRESET).
 */
async function realGet(page: Page, path: string): Promise<Buffer> {
  const url = new URL(path, page.url());
  const cookie = (await page.context().cookies(url.origin))
    .map((c) => `${c.name}=${c.value}`)
    .join('; ');
  return new Promise((resolve, reject) => {
    const request = httpGet(url, { agent: false, headers: { cookie } }, (response) => {
      const chunks: Buffer[] = [];
      response.on('data', (chunk: Buffer) => chunks.push(chunk));
      response.on('error', reject);
      response.on('end', () => {
        if ((response.statusCode ?? 0) >= 400)
          reject(new Error(`GET ${path}: HTTP ${response.statusCode}`));
        else resolve(Buffer.concat(chunks));
      });
    });
    request.on('error', reject);
  });
}

export async function realJson<T>(page: Page, path: string): Promise<T> {
  return JSON.parse((await realGet(page, path)).toString('utf8')) as T;
}

export async function realBytes(page: Page, path: string): Promise<Uint8Array> {
  return new Uint8Array(await realGet(page, path));
}

// ---------------------------------------------------------------------------------------------
// Editing the database (use `browserSuite({ readCacheTtlMs: 0 })`, or the server's read cache
// hides the edits for its lifetime)

export interface StoredUser {
  _id: string;
  email: string;
  name: string;
  publicKey: string;
  fingerprint: string;
}

/** Any stored document, addressed by a string `_id` like all of Medseal's. */
type StoredDoc = { _id: string } & Record<string, unknown>;

/** The stored account of `email` (its id, directory name and public key). */
export async function storedUser(server: TestServer, email: string): Promise<StoredUser> {
  const user = await server.connection.collection<StoredUser>('users').findOne({ email });
  if (!user) throw new Error(`no stored user ${email}`);
  return user;
}

// ---------------------------------------------------------------------------------------------
// Oracles on what the browser sent

/** Requests captured from index `since` on (take `captured.length` before the attack). */
function sentSince(captured: CapturedRequest[], since: number): CapturedRequest[] {
  return captured.slice(since);
}

const GRANT_PATH = /^\/api\/records\/([^/]+)\/grants$/;

/** The share requests (POST …/grants) sent since `since`, with the record they are for. */
export function grantsSent(
  captured: CapturedRequest[],
  since: number,
): { recordId: string; body: Record<string, unknown> }[] {
  return sentSince(captured, since).flatMap((r) => {
    const m = GRANT_PATH.exec(new URL(r.url).pathname);
    if (r.method !== 'POST' || !m?.[1]) return [];
    return [
      {
        recordId: m[1],
        body: JSON.parse(r.body?.toString('utf8') ?? '{}') as Record<string, unknown>,
      },
    ];
  });
}

export function isGrantRequest(r: Request): boolean {
  return r.method() === 'POST' && GRANT_PATH.test(new URL(r.url()).pathname);
}

/** The 16-hex key IDs a person's messages are encrypted to (their encryption subkeys). */
export async function encryptionKeyIdsOf(publicKey: string): Promise<string[]> {
  return (await readPublicKey(publicKey)).encryptionKeyIds;
}

function stringsIn(value: unknown, out: string[] = []): string[] {
  if (typeof value === 'string') out.push(value);
  else if (Array.isArray(value)) for (const v of value) stringsIn(v, out);
  else if (typeof value === 'object' && value !== null)
    for (const v of Object.values(value)) stringsIn(v, out);
  return out;
}

/** Every session key packet a request carries: inside armored or binary messages, or alone (base64url). */
async function sessionKeyPacketsIn(
  r: CapturedRequest,
): Promise<{ keyIds: string[]; lonePackets: string[] }> {
  if (!r.body || r.body.length === 0) return { keyIds: [], lonePackets: [] };
  if ((r.headers['content-type'] ?? '').includes('application/octet-stream')) {
    const summary = await inspectMessage(new Uint8Array(r.body), { maxBytes: r.body.length }).catch(
      () => null,
    );
    return { keyIds: summary?.recipientKeyIds ?? [], lonePackets: [] };
  }
  let json: unknown;
  try {
    json = JSON.parse(r.body.toString('utf8'));
  } catch {
    return { keyIds: [], lonePackets: [] };
  }
  const keyIds: string[] = [];
  const lonePackets: string[] = [];
  for (const s of stringsIn(json)) {
    if (s.includes('-----BEGIN PGP MESSAGE-----')) {
      const summary = await inspectMessage(s, { maxBytes: s.length }).catch(() => null);
      keyIds.push(...(summary?.recipientKeyIds ?? []));
    } else if (/^[A-Za-z0-9_-]{16,}$/.test(s)) {
      try {
        keyIds.push(recipientKeyIdOf(s));
        lonePackets.push(s);
      } catch {
        // not a session key packet
      }
    }
  }
  return { keyIds, lonePackets };
}

/**
 * Requests sent since `since` that encrypt anything to one of `keyIds` (a message to that key,
 * or a session key packet for it): what the attacker's key would then read.
 */
export async function requestsEncryptingTo(
  captured: CapturedRequest[],
  since: number,
  keyIds: string[],
): Promise<string[]> {
  const found: string[] = [];
  for (const r of sentSince(captured, since)) {
    const { keyIds: ids } = await sessionKeyPacketsIn(r);
    if (ids.some((id) => keyIds.includes(id))) found.push(`${r.method} ${new URL(r.url).pathname}`);
  }
  return found;
}

/**
 * Requests sent since `since` carrying a session key packet with which `key` (the attacker's)
 * decrypts `message` (e.g. another record's file): that file's key was handed to the attacker.
 * Each packet is tried alone in front of the message's encrypted data.
 */
export async function requestsOpening(
  captured: CapturedRequest[],
  since: number,
  target: { message: Uint8Array; authorPublicKey: string; key: UnlockedKey },
): Promise<string[]> {
  const { body } = splitRecipientPackets(target.message);
  const found: string[] = [];
  for (const r of sentSince(captured, since)) {
    for (const packet of (await sessionKeyPacketsIn(r)).lonePackets) {
      const alone = new Uint8Array(Buffer.concat([Buffer.from(packet, 'base64url'), body]));
      const opened = await openFile({
        message: alone,
        myKey: target.key,
        authorPublicKey: target.authorPublicKey,
      }).catch(() => null);
      if (opened?.status === 'verified') found.push(`${r.method} ${new URL(r.url).pathname}`);
    }
  }
  return found;
}

// ---------------------------------------------------------------------------------------------
// What the user sees

/**
 * Words a security warning or refusal uses, whatever its exact text. The app must render every
 * such warning in an element with role=alert (or role=status) — see the suites' headers.
 */
export const SECURITY_WORDS =
  /tamper|not verified|unverified|could not be verified|security|changed|refused|warning|blocked|rolled back|older|missing|mismatch|altered|not signed|no consent|without consent/i;

export function securityWarnings(page: Page): Locator {
  return page.locator('[role="alert"], [role="status"]').filter({ hasText: SECURITY_WORDS });
}

/** Waits until a security warning is visible (generous: the machine is busy). */
export async function expectSecurityWarning(page: Page): Promise<void> {
  await securityWarnings(page).first().waitFor({ state: 'visible', timeout: 60_000 });
}

/** What the page shows now (hidden elements excluded). */
export function shownText(page: Page): Promise<string> {
  return page.locator('body').innerText();
}

/**
 * Texts of the regions (alert, status, list item, table row, dialog, section) that show `marker`
 * and claim it is verified — "not verified", "unverified" and button labels do not count.
 */
export function regionsClaimingVerified(page: Page, marker: string): Promise<string[]> {
  return page.evaluate((m) => {
    const claims: string[] = [];
    const walker = document.createTreeWalker(document.body, NodeFilter.SHOW_TEXT);
    for (let node = walker.nextNode(); node; node = walker.nextNode()) {
      if (!node.textContent?.includes(m)) continue;
      const region = node.parentElement?.closest(
        '[role="alert"], [role="status"], li, tr, [role="row"], [role="dialog"], dialog, section',
      );
      if (!region) continue;
      const copy = region.cloneNode(true) as HTMLElement;
      for (const b of copy.querySelectorAll('button, [role="button"]')) b.remove();
      const text = (copy.textContent ?? '').replace(
        /\b(not|never|un)[\s-]*(yet\s+|been\s+)?verified\b/gi,
        '',
      );
      if (/verified/i.test(text)) claims.push(region.textContent ?? '');
    }
    return claims;
  }, marker);
}

/** `marker` is not on the page, and nowhere next to a claim that it is verified. */
export async function expectNotShown(page: Page, marker: string): Promise<void> {
  expect(await regionsClaimingVerified(page, marker)).toEqual([]);
  expect(await shownText(page)).not.toContain(marker);
}

// ---------------------------------------------------------------------------------------------
// Ready-made attacks

/** Where the account state lives (DESIGN §12) and how the attacks change it. */
export const ACCOUNT_STATE = {
  path: '/api/account-state',
  collection: 'account_states',
  /** The API answer for "nothing stored". */
  missing: { version: 0, blob: null },
  /** The API answer with one byte in the middle of the stored message changed. */
  corrupt: (answer: { version: number; blob: string | null }) => ({
    ...answer,
    blob: answer.blob === null ? null : flipMiddleByte(answer.blob),
  }),
};

/** Changes one byte in the middle of base64url bytes. */
function flipMiddleByte(base64url: string): string {
  const bytes = Buffer.from(base64url, 'base64url');
  const i = Math.floor(bytes.length / 2);
  bytes.writeUInt8((bytes.readUInt8(i) ^ 0x01) & 0xff, i);
  return bytes.toString('base64url');
}

/** The stored account-state document of a user, to put back later (a rollback). */
export async function accountStateDocument(
  server: TestServer,
  userId: string,
): Promise<Record<string, unknown>> {
  const doc = await server.connection
    .collection<StoredDoc>(ACCOUNT_STATE.collection)
    .findOne({ _id: userId });
  if (!doc) throw new Error(`no account state stored for ${userId} in ${ACCOUNT_STATE.collection}`);
  return doc;
}

/** Puts an earlier copy of a user's account-state document back in place. */
export async function restoreAccountState(
  server: TestServer,
  userId: string,
  earlier: Record<string, unknown>,
): Promise<void> {
  const { matchedCount } = await server.connection
    .collection<StoredDoc>(ACCOUNT_STATE.collection)
    .replaceOne({ _id: userId }, earlier);
  expect(matchedCount).toBe(1);
}

/** The directory hands out `impostor`'s key (and fingerprint) as `victimId`'s, by id and by email search. */
export async function serveKeyAs(
  page: Page,
  victimId: string,
  impostor: { publicKey: string; fingerprint: string },
): Promise<Attack[]> {
  const swap = (u: DirectoryUser): DirectoryUser =>
    u.id === victimId
      ? { ...u, publicKey: impostor.publicKey, fingerprint: impostor.fingerprint }
      : u;
  return [
    await rewriteJson<DirectoryResponse>(page, { method: 'GET', path: '/api/users' }, (b) => ({
      users: b.users.map(swap),
    })),
    await rewriteJson<DirectoryUser>(page, { method: 'GET', path: `/api/users/${victimId}` }, swap),
  ];
}

/** The directory gives `userId` another display name. */
export async function renameInDirectory(
  page: Page,
  userId: string,
  name: string,
): Promise<Attack[]> {
  const rename = (u: DirectoryUser): DirectoryUser => (u.id === userId ? { ...u, name } : u);
  return [
    await rewriteJson<DirectoryResponse>(page, { method: 'GET', path: '/api/users' }, (b) => ({
      users: b.users.map(rename),
    })),
    await rewriteJson<DirectoryUser>(page, { method: 'GET', path: `/api/users/${userId}` }, rename),
  ];
}

export const totalHits = (attacks: Attack[]) => attacks.reduce((n, a) => n + a.hits, 0);

/** Answers `match` with the real answer of another API path (e.g. another record's file packets). */
export function serveOther(page: Page, match: ApiMatch, otherPath: string): Promise<Attack> {
  return intercept(page, match, async (route) => {
    const response = await route.fetch({
      url: new URL(otherPath, route.request().url()).toString(),
    });
    await route.fulfill({ response });
  });
}

/** A stored version of a record, as GET /api/records/:id/versions/:version answers it. */
export interface StoredVersion {
  version: number;
  authorId: string;
  recipients: Recipient[];
  message: string;
}

/** Serves `old` (an earlier version) as the record's current version, on its page and in the list. */
export async function serveAsCurrent(
  page: Page,
  recordId: string,
  old: StoredVersion,
): Promise<Attack[]> {
  const asCurrent = (dto: RecordDto): RecordDto =>
    dto.id === recordId
      ? {
          ...dto,
          version: old.version,
          authorId: old.authorId,
          recipients: old.recipients,
          message: old.message,
        }
      : dto;
  return [
    await rewriteJson<RecordDto>(
      page,
      { method: 'GET', path: `/api/records/${recordId}` },
      asCurrent,
    ),
    await rewriteJson<RecordListResponse>(page, { method: 'GET', path: '/api/records' }, (b) => ({
      ...b,
      records: b.records.map(asCurrent),
    })),
  ];
}

/**
 * Stores a record the way the server's create does (record + version 1 documents), without
 * any of its checks: what an operator with the database can add to anyone's list.
 */
export async function plantRecord(
  server: TestServer,
  record: {
    id: string;
    ownerId: string;
    authorId: string;
    recipients: Recipient[];
    message: string;
  },
): Promise<void> {
  const now = new Date();
  const c = server.connection;
  await c.collection<StoredDoc>('records').insertOne({
    _id: record.id,
    ownerId: record.ownerId,
    authorId: record.authorId,
    creatorId: record.authorId,
    recipients: record.recipients,
    readerIds: record.recipients.map((r) => r.userId),
    version: 1,
    rev: 1,
    createdAt: now,
    updatedAt: now,
    message: record.message,
  });
  await c.collection<StoredDoc>('record_versions').insertOne({
    _id: `${record.id}:1`,
    recordId: record.id,
    version: 1,
    authorId: record.authorId,
    recipients: record.recipients,
    message: record.message,
    size: record.message.length,
    createdAt: now,
  });
}

/** A record id as the app makes them (128 random bits, base64url, 22 characters). */
export function newRecordId(): string {
  return randomBytes(16).toString('base64url');
}

// ---------------------------------------------------------------------------------------------
// A user's own key as the server hands it out at login

const PACKET_SECRET_SUBKEY = 7;
const PACKET_PUBLIC_SUBKEY = 14;

/** Top-level OpenPGP packets (RFC 9580 §4.2, both header formats; no partial lengths). */
function framePackets(bytes: Buffer): { tag: number; start: number; end: number }[] {
  const out: { tag: number; start: number; end: number }[] = [];
  for (let i = 0; i < bytes.length;) {
    const h = bytes.readUInt8(i);
    if (!(h & 0x80)) throw new Error(`not an OpenPGP packet at byte ${i}`);
    let tag: number;
    let header: number;
    let length: number;
    if (h & 0x40) {
      tag = h & 0x3f;
      const o1 = bytes.readUInt8(i + 1);
      if (o1 < 192) [header, length] = [2, o1];
      else if (o1 < 224) [header, length] = [3, ((o1 - 192) << 8) + bytes.readUInt8(i + 2) + 192];
      else if (o1 === 255) [header, length] = [6, bytes.readUInt32BE(i + 2)];
      else throw new Error('partial packet lengths are not expected in a key');
    } else {
      tag = (h >> 2) & 0x0f;
      const type = h & 0x03;
      if (type === 3) throw new Error('indeterminate packet lengths are not expected in a key');
      header = type === 0 ? 2 : type === 1 ? 3 : 5;
      length =
        type === 0
          ? bytes.readUInt8(i + 1)
          : type === 1
            ? bytes.readUInt16BE(i + 1)
            : bytes.readUInt32BE(i + 1);
    }
    out.push({ tag, start: i, end: i + header + length });
    i += header + length;
  }
  return out;
}

/** CRC-24 of the armor checksum (RFC 9580 §6.1). */
function crc24(bytes: Uint8Array): number {
  let crc = 0xb704ce;
  for (const b of bytes) {
    crc ^= b << 16;
    for (let i = 0; i < 8; i++) {
      crc <<= 1;
      if (crc & 0x1000000) crc ^= 0x1864cfb;
    }
  }
  return crc & 0xffffff;
}

function armorKeyBlock(bytes: Buffer, label: string): string {
  const body = bytes.toString('base64').replace(/.{1,64}/g, '$&\n');
  const sum = Buffer.from([
    crc24(bytes) >> 16,
    (crc24(bytes) >> 8) & 0xff,
    crc24(bytes) & 0xff,
  ]).toString('base64');
  return `-----BEGIN PGP ${label}-----\n\n${body}=${sum}\n-----END PGP ${label}-----\n`;
}

/**
 * The same armored key without its subkeys (so without its encryption key): its primary key
 * still unlocks and still has the registered fingerprint, but it is not the registered key.
 */
export function withoutSubkeys(armored: string): string {
  const label = /-----BEGIN PGP ([A-Z ]+)-----/.exec(armored)?.[1];
  if (!label) throw new Error('not an armored key');
  const base64 = armored
    .split('\n')
    .filter(
      (line) =>
        line && !line.startsWith('-----') && !line.startsWith('=') && !/^[A-Za-z]+: /.test(line),
    )
    .join('');
  const bytes = Buffer.from(base64, 'base64');
  const packets = framePackets(bytes);
  const firstSubkey = packets.find(
    (p) => p.tag === PACKET_SECRET_SUBKEY || p.tag === PACKET_PUBLIC_SUBKEY,
  );
  if (!firstSubkey) throw new Error('the key has no subkey to take away');
  return armorKeyBlock(bytes.subarray(0, firstSubkey.start), label);
}

/**
 * Hides a reader the way an operator would: their grant and their place in the record's reader
 * list are deleted, while the stored message keeps their session key packet (they can still
 * read whatever the operator serves them).
 */
export async function hideReader(
  server: TestServer,
  recordId: string,
  userId: string,
): Promise<void> {
  const c = server.connection;
  const { deletedCount } = await c
    .collection<StoredDoc>('grants')
    .deleteOne({ _id: `${recordId}:${userId}` });
  expect(deletedCount).toBe(1);
  const records = c.collection<StoredDoc & { recipients: Recipient[]; readerIds: string[] }>(
    'records',
  );
  const record = await records.findOne({ _id: recordId });
  if (!record) throw new Error(`no stored record ${recordId}`);
  await records.updateOne(
    { _id: recordId },
    {
      $set: {
        recipients: record.recipients.filter((r) => r.userId !== userId),
        readerIds: record.readerIds.filter((id) => id !== userId),
      },
    },
  );
}

/**
 * Shows one browser a forked key-transparency log: these leaves, signed with the log key like
 * any head, with every proof the app asks for made from them. `me` is the page's user (whose
 * history the page asks for). For a size beyond the fork, the attacker either refuses
 * (`kt-bad-size`) or, unable to prove anything under a larger head with its fork, lets the real
 * server answer (`beyond: 'real'`).
 */
export async function serveForkedLog(
  page: Page,
  opts: { leaves: string[]; logKey: string; me: string; beyond: 'refuse' | 'real' },
): Promise<Attack[]> {
  const { leaves } = opts;
  const hex = (bytes: Uint8Array) => Buffer.from(bytes).toString('hex');
  const fork = memoryLog(leaves.map(bindingLeafHash));
  // The fork's own subject map: a forked log is whole in itself, map included.
  const map = await memoryKtMap(leaves);
  const head = signTreeHead(
    {
      v: 2,
      size: fork.size,
      root: hex(fork.root()),
      mapRoot: map.roots[fork.size] ?? '',
      timestamp: Date.now(),
    },
    opts.logKey,
  );
  const subjects = leaves.map((data) => subjectOf(parseBinding(data)));
  const provenIn = (i: number, size: number) => ({
    leaf: { index: i, data: leaves[i] ?? '' },
    proof: fork.inclusion(i, size).map(hex),
  });
  const indexesOf = (subject: string, size: number) =>
    subjects.flatMap((s, i) => (i < size && s === subject ? [i] : []));
  const history = async (subject: string, size: number) => ({
    size,
    bindings: indexesOf(subject, size).map((i) => provenIn(i, size)),
    map: await map.proof(subject, size),
  });
  const badSize = {
    status: 400,
    json: { error: { code: 'kt-bad-size', message: 'no signed tree of that size' } },
  };
  return [
    await answerFrom(page, { method: 'GET', path: '/api/kt/head' }, () => ({
      status: 200,
      json: head,
    })),
    await answerFrom(page, { method: 'GET', path: '/api/kt/consistency' }, (url) => {
      const from = Number(url.searchParams.get('from'));
      const to = Number(url.searchParams.get('to'));
      return to > fork.size || from > to
        ? badSize
        : { status: 200, json: { proof: fork.consistency(from, to).map(hex) } };
    }),
    await answerFrom(
      page,
      { method: 'GET', path: /^\/api\/kt\/users\/[^/]+\/binding$/ },
      async (url) => {
        const size = Number(url.searchParams.get('size'));
        const userId = url.pathname.split('/')[4] ?? '';
        const latest = indexesOf(userId, size).pop();
        if (size > fork.size) return badSize;
        if (latest === undefined)
          return { status: 404, json: { error: { code: 'kt-not-logged', message: 'not logged' } } };
        return {
          status: 200,
          json: { ...provenIn(latest, size), map: await map.proof(userId, size) },
        };
      },
    ),
    opts.beyond === 'real'
      ? await rewriteJson<{ size: number }>(
          page,
          { method: 'GET', path: '/api/kt/history' },
          (real) => (real.size <= fork.size ? history(opts.me, real.size) : real),
        )
      : await answerFrom(page, { method: 'GET', path: '/api/kt/history' }, async (url) => {
          const size = Number(url.searchParams.get('size'));
          return size > fork.size ? badSize : { status: 200, json: await history(opts.me, size) };
        }),
  ];
}
