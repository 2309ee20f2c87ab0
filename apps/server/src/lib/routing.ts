import express, { type Request, type RequestHandler, type Response, type Router } from 'express';
import typeis from 'type-is';
import { z } from 'zod';
import type { Endpoint, EndpointName, Endpoints } from '@medseal/contract';
import { CSRF_HEADER, MAX_ATTACHMENT_BYTES, securityErrorCodes } from '@medseal/contract';
import { AppError } from './errors';
import { responseEnded } from './http-server';
import { UploadSlots, type UploadLimits } from './upload-slots';
import { parseInput } from './validate';

/** What a record route needs of the caller (see src/access.ts for who has what). */
export type RecordNeed = 'read' | 'edit' | 'share' | 'delete' | 'audit';

/**
 * The access rule of one endpoint. Every endpoint must have one; the binder answers 403
 * for an endpoint without a rule or handler (fail closed).
 */
export type AccessRule =
  { kind: 'public' } | { kind: 'session' } | { kind: 'record'; need: RecordNeed };

export interface AuthContext {
  userId: string;
  /** The session's public id (what "my sessions" shows). */
  sessionId: string;
  /** The session's `_id` (SHA-256 of its token), for `_id` reads and writes of it. */
  sessionKey: string;
}

type Out<T> = T extends z.ZodType ? z.output<T> : undefined;
type BodyOf<E extends Endpoint> = E['body'] extends z.ZodType
  ? z.output<E['body']>
  : E['body'] extends 'binary'
    ? Buffer
    : undefined;
/** JSON answers must match the contract; 204 and streamed answers return nothing useful. */
type ResultOf<E extends Endpoint> = E['response'] extends z.ZodType
  ? z.input<E['response']>
  : unknown;

export interface HandlerContext<E extends Endpoint, R> {
  body: BodyOf<E>;
  query: Out<E['query']>;
  params: Out<E['params']>;
  /** Set for every endpoint that is not public. */
  auth: E['auth'] extends 'session' ? AuthContext : AuthContext | undefined;
  /** Set for record rules: the record and the caller's role on it. */
  access: R | undefined;
  req: Request;
  res: Response;
  /** The client address key for per-IP rate limits (IPv6 per /64, lib/client-address.ts). */
  ip: string;
}

/**
 * A JSON answer serialized ahead of time; the binder sends its bytes as they are. For an
 * answer served many times over from the same cached documents (records/use-cases.ts).
 */
export class JsonBytes<T> {
  /** Only the type of the value these bytes hold. */
  declare readonly value?: T;
  private constructor(readonly bytes: Buffer) {}

  static of<T>(value: T): JsonBytes<T> {
    return new JsonBytes(Buffer.from(JSON.stringify(value)));
  }

  /**
   * `{ "<key>": [items…], ...rest }` from items serialized before: a page of cached answers
   * costs a copy of their bytes, not a JSON.stringify of the page (records/use-cases.ts).
   */
  static ofList<T>(
    key: string,
    items: readonly JsonBytes<unknown>[],
    rest: Record<string, unknown>,
  ): JsonBytes<T> {
    const tail = JSON.stringify(rest).slice(1); // '}' or '"nextCursor":"…"}'
    const parts: Buffer[] = [Buffer.from(`{${JSON.stringify(key)}:[`)];
    for (const [i, item] of items.entries()) {
      if (i > 0) parts.push(COMMA);
      parts.push(item.bytes);
    }
    parts.push(Buffer.from(tail === '}' ? ']}' : `],${tail}`));
    return new JsonBytes(Buffer.concat(parts));
  }
}

const COMMA = Buffer.from(',');

export type Handler<E extends Endpoint, R> = (
  ctx: HandlerContext<E, R>,
) => Promise<ResultOf<E> | JsonBytes<ResultOf<E>>>;
export type Handlers<R> = { [K in EndpointName]: Handler<Endpoints[K], R> };

export interface BindOptions<R> {
  endpoints: Record<string, Endpoint>;
  handlers: Partial<Record<string, Handler<Endpoint, R>>>;
  rules: Partial<Record<string, AccessRule>>;
  authenticate: (req: Request, res: Response) => Promise<AuthContext | undefined>;
  /** Resolves a record rule; throws 404/403. */
  authorizeRecord: (recordId: string, auth: AuthContext, need: RecordNeed) => Promise<R>;
  /** Parse every JSON answer with its contract schema (on in tests, to catch drift). */
  checkResponses: boolean;
  /** Uploads in flight per session and per client address (issue 15, finding 2). */
  uploads: UploadLimits;
  /** The rate-limit key of a request's client address (lib/client-address.ts). */
  clientKey: (req: Request) => string;
}

const emptyObject = z.object({}).strict();

/** JSON bodies larger than this are refused with 413 before parsing. */
const JSON_BODY_LIMIT = '1mb';

const failClosed: RequestHandler = (_req, _res, next) => {
  next(
    new AppError({
      status: 403,
      code: 'no-access-rule',
      message: 'This operation has no access rule, so it is refused.',
    }),
  );
};

/** Bodies are never inflated: a gzip bomb is small on the wire and huge in memory. */
const refuseEncodedBody: RequestHandler = (req, _res, next) => {
  const encoding = req.get('content-encoding');
  if (encoding !== undefined && encoding.trim().toLowerCase() !== 'identity') {
    throw new AppError({
      status: 415,
      code: securityErrorCodes.unsupportedContentEncoding,
      message: 'Compressed request bodies are not accepted; send the body as it is.',
    });
  }
  next();
};

/**
 * Registers every endpoint of the table on `router` with validation, auth and access checks.
 * One route per path with its methods on it, and a body parser only on the endpoints that
 * take a body: a request walks one router layer per path, not one per endpoint plus a parser
 * (the walk cost ~7% of a cached record GET's rate).
 *
 * The session is checked before the body is read, and a binary upload takes an upload slot
 * first (issue 15, finding 2): an anonymous client cannot make the server buffer anything,
 * and one session or address cannot make it buffer more than its slots' worth. A body left
 * unread by an early answer is discarded as it arrives (Node's http server), never kept; the
 * connection stays open, so the client reads the answer instead of a reset.
 */
export function bindEndpoints<R>(router: Router, options: BindOptions<R>): void {
  const routes = new Map<string, ReturnType<Router['route']>>();
  // `inflate: false` as well: a compressed body is refused before this (refuseEncodedBody).
  const jsonBody = express.json({
    limit: JSON_BODY_LIMIT,
    type: 'application/json',
    inflate: false,
  });
  const binaryBody = express.raw({
    type: 'application/octet-stream',
    limit: MAX_ATTACHMENT_BYTES + 64 * 1024,
    inflate: false,
  });
  const slots = new UploadSlots(options.uploads);
  for (const [name, e] of Object.entries(options.endpoints)) {
    const route = routes.get(e.path) ?? router.route(e.path);
    routes.set(e.path, route);
    const rule = options.rules[name];
    const handler = options.handlers[name];
    if (!rule || !handler) {
      route[e.method](failClosed);
      continue;
    }
    const needsSession = rule.kind !== 'public' || e.auth === 'session';
    const chain: RequestHandler[] = [
      async (req, res, next) => {
        if (e.csrf === 'required' && req.get(CSRF_HEADER) !== '1') {
          throw new AppError({
            status: 403,
            code: 'csrf-header-missing',
            message: `This request needs the ${CSRF_HEADER} header.`,
          });
        }
        const auth = await options.authenticate(req, res);
        if (needsSession && !auth) {
          throw new AppError({ status: 401, code: 'unauthenticated', message: 'Log in first.' });
        }
        res.locals.auth = auth;
        res.locals.ip = options.clientKey(req);
        next();
      },
    ];
    if (e.body !== undefined) chain.push(refuseEncodedBody);
    if (e.body === 'binary') {
      chain.push((_req, res, next) => {
        const auth = res.locals.auth as AuthContext;
        const release = slots.take({ session: auth.sessionId, ip: res.locals.ip as string });
        if (!release) {
          throw new AppError({
            status: 429,
            code: securityErrorCodes.tooManyUploads,
            message: 'Too many uploads at once; wait for one to finish.',
          });
        }
        void responseEnded(res).then(release);
        next();
      }, binaryBody);
    } else if (e.body !== undefined) chain.push(jsonBody);
    chain.push(async (req, res) => {
      const auth = res.locals.auth as AuthContext | undefined;
      const params = parseInput(e.params ?? emptyObject, { ...req.params }, 'path');
      const query = parseInput(e.query ?? emptyObject, { ...(req.query as object) }, 'query');
      const body = readBody(req, e);
      let access: R | undefined;
      if (rule.kind === 'record') {
        const recordId = (params as { recordId?: unknown }).recordId;
        if (typeof recordId !== 'string' || !auth)
          throw new AppError({ status: 403, code: 'no-access-rule', message: 'Refused.' });
        access = await options.authorizeRecord(recordId, auth, rule.need);
      }
      const result = await handler({
        body,
        query,
        params,
        auth,
        access,
        req,
        res,
        ip: res.locals.ip as string,
      } as never);
      if (e.response === 'binary' || e.response === 'event-stream') return; // the handler streamed the answer
      if (e.response === undefined) {
        res.status(204).end();
        return;
      }
      if (result instanceof JsonBytes) {
        if (options.checkResponses) e.response.parse(JSON.parse(result.bytes.toString('utf8')));
        res.status(e.status).type('application/json').send(result.bytes);
        return;
      }
      if (options.checkResponses) e.response.parse(result);
      res.status(e.status).json(result);
    });
    route[e.method](...chain);
  }
}

function readBody(req: Request, e: Endpoint): unknown {
  if (e.body === 'binary') {
    if (!req.is('application/octet-stream') || !Buffer.isBuffer(req.body)) {
      throw new AppError({
        status: 415,
        code: 'unsupported-content-type',
        message: 'Send the attachment as application/octet-stream.',
      });
    }
    return req.body;
  }
  if (e.body === undefined) {
    // Length 0 is no body (fetch sends it for a POST without one).
    if (typeis.hasBody(req) && req.headers['content-length'] !== '0') {
      throw new AppError({
        status: 400,
        code: 'unexpected-body',
        message: 'This operation takes no request body.',
      });
    }
    return undefined;
  }
  if (!req.is('application/json')) {
    throw new AppError({
      status: 415,
      code: 'unsupported-content-type',
      message: 'Send the body as application/json.',
    });
  }
  return parseInput(e.body, req.body, 'body');
}
