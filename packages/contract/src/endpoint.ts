import type { z } from 'zod';

export type HttpMethod = 'get' | 'post' | 'put' | 'delete';

/**
 * One API operation: its path (Express style, `:param`), the schemas of what goes in and
 * out, and whether a session is needed. The server binds a handler and an access rule to
 * each; the OpenAPI document is generated from the same table (STYLE.md §3).
 */
export interface Endpoint {
  method: HttpMethod;
  path: string;
  summary: string;
  tag: string;
  auth: 'public' | 'session';
  /**
   * `required`: the CSRF header is needed even on this GET. For pre-login reads that cost
   * the account something (rate limits): an image tag or link on another site cannot send it.
   */
  csrf?: 'required';
  params?: z.ZodType;
  query?: z.ZodType;
  /** JSON body schema; `binary` means an application/octet-stream body. */
  body?: z.ZodType | 'binary';
  /**
   * JSON response schema; `binary` streams application/octet-stream; `event-stream` is a
   * text/event-stream of server-sent events the handler writes; none means 204.
   */
  response?: z.ZodType | 'binary' | 'event-stream';
  status: 200 | 201 | 204;
  /** Stable error codes this operation may answer with (besides the generic ones). */
  errors?: readonly string[];
}

export function endpoint<const E extends Endpoint>(e: E): E {
  return e;
}
