import type { z } from 'zod';
import { errorBodySchema } from '@medseal/contract';
import { ApiError } from './errors';

/**
 * The fetch client for /api. One function, `call(endpoint, input)`, driven by the contract's
 * endpoint table: it fills the path, sends the CSRF and client-version headers, and parses
 * every JSON response with the endpoint's zod schema (STYLE.md §3). Responses that do not
 * parse are errors (`bad-response`), never passed on half-checked.
 */
export interface EndpointLike {
  method: 'get' | 'post' | 'put' | 'delete';
  path: string;
  params?: z.ZodType;
  query?: z.ZodType;
  body?: z.ZodType | 'binary';
  response?: z.ZodType | 'binary';
}

type ParamsInput<E extends EndpointLike> = E['params'] extends z.ZodType
  ? { params: z.input<E['params']> }
  : { params?: undefined };
type QueryInput<E extends EndpointLike> = E['query'] extends z.ZodType
  ? { query: z.input<E['query']> }
  : { query?: undefined };
type BodyInput<E extends EndpointLike> = E['body'] extends z.ZodType
  ? { body: z.input<E['body']> }
  : E['body'] extends 'binary'
    ? { body: Uint8Array; onUploadProgress?: (fraction: number) => void }
    : { body?: undefined };
export type CallInput<E extends EndpointLike> = ParamsInput<E> &
  QueryInput<E> &
  BodyInput<E> & { onDownloadProgress?: (fraction: number) => void };
export type CallOutput<E extends EndpointLike> = E['response'] extends z.ZodType
  ? z.output<E['response']>
  : E['response'] extends 'binary'
    ? Uint8Array
    : undefined;

export interface HttpOptions {
  /** Origin + prefix of the API, e.g. `/api` or `http://127.0.0.1:8080/api`. */
  baseUrl: string;
  clientVersion: string;
  csrfHeader: string;
  clientVersionHeader: string;
  clientStatusHeader: string;
  /** Called with the server's client-status header value (e.g. "outdated") when present. */
  onClientStatus?: (status: string) => void;
  /** Called when any call answers 401 (the session ended). */
  onUnauthenticated?: () => void;
}

export type Call = <E extends EndpointLike>(
  endpoint: E,
  input: CallInput<E>,
) => Promise<CallOutput<E>>;

export function fillPath(path: string, params: Record<string, unknown> | undefined): string {
  return path.replace(/:([A-Za-z]+)/g, (_m, name: string) => {
    const value = params?.[name];
    if (value === undefined || value === null)
      throw new Error(`missing path parameter ${name} for ${path}`);
    return encodeURIComponent(String(value));
  });
}

function queryString(query: Record<string, unknown> | undefined): string {
  if (!query) return '';
  const search = new URLSearchParams();
  for (const [k, v] of Object.entries(query)) if (v !== undefined) search.set(k, String(v));
  const s = search.toString();
  return s ? `?${s}` : '';
}

async function readBytes(
  response: Response,
  onProgress?: (fraction: number) => void,
): Promise<Uint8Array> {
  const total = Number(response.headers.get('content-length') ?? '0');
  if (!response.body || !onProgress || !total) return new Uint8Array(await response.arrayBuffer());
  const reader = response.body.getReader();
  const chunks: Uint8Array[] = [];
  let received = 0;
  for (;;) {
    const { done, value } = await reader.read();
    if (done) break;
    chunks.push(value);
    received += value.length;
    onProgress(Math.min(received / total, 1));
  }
  const out = new Uint8Array(received);
  let offset = 0;
  for (const c of chunks) {
    out.set(c, offset);
    offset += c.length;
  }
  return out;
}

/** Upload with progress: fetch cannot report upload progress, XMLHttpRequest can. */
function xhrUpload(
  method: string,
  url: string,
  headers: Record<string, string>,
  body: Uint8Array,
  onProgress: (f: number) => void,
): Promise<{ status: number; text: string; header(name: string): string | null }> {
  return new Promise((resolve, reject) => {
    const xhr = new XMLHttpRequest();
    xhr.open(method, url);
    for (const [k, v] of Object.entries(headers)) xhr.setRequestHeader(k, v);
    xhr.upload.onprogress = (e) => {
      if (e.lengthComputable) onProgress(e.loaded / e.total);
    };
    xhr.onload = () =>
      resolve({
        status: xhr.status,
        text: xhr.responseText,
        header: (n) => xhr.getResponseHeader(n),
      });
    xhr.onerror = () =>
      reject(
        new ApiError({ status: 0, code: 'network-error', message: 'network error during upload' }),
      );
    xhr.send(new Blob([body as BlobPart]));
  });
}

function errorFrom(status: number, text: string): ApiError {
  let json: unknown;
  try {
    json = JSON.parse(text);
  } catch {
    return new ApiError({
      status,
      code: status === 401 ? 'unauthenticated' : 'not-json',
      message: `HTTP ${status}`,
    });
  }
  const parsed = errorBodySchema.safeParse(json);
  if (!parsed.success)
    return new ApiError({
      status,
      code: 'bad-response',
      message: `HTTP ${status} with an unexpected body`,
    });
  return new ApiError({
    status,
    code: parsed.data.error.code,
    message: parsed.data.error.message,
    details: parsed.data.error.details,
  });
}

function parseJson<E extends EndpointLike>(
  endpoint: E,
  status: number,
  text: string,
): CallOutput<E> {
  const schema = endpoint.response;
  if (!schema || schema === 'binary') return undefined as CallOutput<E>;
  let json: unknown;
  try {
    json = JSON.parse(text);
  } catch (cause) {
    throw new ApiError({
      status,
      code: 'not-json',
      message: `${endpoint.method.toUpperCase()} ${endpoint.path} did not answer JSON`,
      cause,
    });
  }
  const parsed = schema.safeParse(json);
  if (!parsed.success) {
    throw new ApiError({
      status,
      code: 'bad-response',
      message: `${endpoint.method.toUpperCase()} ${endpoint.path} answered a body that does not match the contract`,
      cause: parsed.error,
    });
  }
  return parsed.data as CallOutput<E>;
}

export function createHttp(options: HttpOptions): Call {
  const baseHeaders = (): Record<string, string> => ({
    [options.clientVersionHeader]: options.clientVersion,
    [options.csrfHeader]: '1',
  });
  const seeStatus = (status: number, header: (n: string) => string | null) => {
    const clientStatus = header(options.clientStatusHeader);
    if (clientStatus) options.onClientStatus?.(clientStatus);
    if (status === 401) options.onUnauthenticated?.();
  };

  return async function call<E extends EndpointLike>(
    endpoint: E,
    input: CallInput<E>,
  ): Promise<CallOutput<E>> {
    const url =
      options.baseUrl +
      fillPath(endpoint.path, input.params as Record<string, unknown> | undefined) +
      queryString(input.query as Record<string, unknown> | undefined);
    const headers = baseHeaders();
    if (endpoint.body === 'binary') {
      const body = input.body as Uint8Array;
      headers['content-type'] = 'application/octet-stream';
      const progress =
        'onUploadProgress' in input && typeof input.onUploadProgress === 'function'
          ? input.onUploadProgress
          : () => undefined;
      const res = await xhrUpload(endpoint.method.toUpperCase(), url, headers, body, progress);
      seeStatus(res.status, res.header);
      if (res.status >= 400) throw errorFrom(res.status, res.text);
      return parseJson(endpoint, res.status, res.text);
    }
    let body: string | undefined;
    if (endpoint.body) {
      headers['content-type'] = 'application/json';
      body = JSON.stringify(input.body);
    }
    let response: Response;
    try {
      response = await fetch(url, {
        method: endpoint.method.toUpperCase(),
        headers,
        body,
        credentials: 'same-origin',
        cache: 'no-store',
      });
    } catch (cause) {
      throw new ApiError({
        status: 0,
        code: 'network-error',
        message: 'The server could not be reached.',
        cause,
      });
    }
    seeStatus(response.status, (n) => response.headers.get(n));
    if (!response.ok) throw errorFrom(response.status, await response.text());
    if (endpoint.response === 'binary')
      return (await readBytes(response, input.onDownloadProgress)) as CallOutput<E>;
    if (!endpoint.response) return undefined as CallOutput<E>;
    return parseJson(endpoint, response.status, await response.text());
  };
}
