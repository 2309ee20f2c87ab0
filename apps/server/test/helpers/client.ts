import { CSRF_HEADER } from '@medseal/contract';

export interface ApiResponse<T = unknown> {
  status: number;
  headers: Headers;
  body: T;
}

export interface RequestOptions {
  body?: unknown;
  /** Raw body (sent as is) with its content type. */
  raw?: { data: string | Uint8Array; contentType: string };
  /** Leave out the CSRF header (sent on every request by default) / send another Origin. */
  csrf?: boolean;
  origin?: string | null;
  headers?: Record<string, string>;
  /** Use this cookie instead of the client's own. */
  cookie?: string | null;
}

/**
 * A tiny browser-like API client for tests: keeps the session cookie, sends the CSRF header
 * and a same-origin Origin on state-changing requests, like the web app does.
 */
export class ApiClient {
  /** The session cookie (`name=value`). */
  cookie: string | undefined;
  /** Other cookies the server set (the known-device cookie), by name. */
  readonly otherCookies = new Map<string, string>();

  constructor(readonly baseUrl: string) {}

  async request<T = unknown>(
    method: string,
    path: string,
    options: RequestOptions = {},
  ): Promise<ApiResponse<T>> {
    const headers: Record<string, string> = { ...options.headers };
    const cookie =
      options.cookie === undefined
        ? [this.cookie, ...this.otherCookies.values()].filter(Boolean).join('; ')
        : options.cookie;
    if (cookie) headers.cookie = cookie;
    // On every request, as the web app sends it (pre-login params need it on a GET too).
    if (options.csrf !== false) headers[CSRF_HEADER] = '1';
    if (method !== 'GET') {
      const origin = options.origin === undefined ? this.baseUrl : options.origin;
      if (origin !== null) headers.origin = origin;
    }
    let body: string | Uint8Array | undefined;
    if (options.raw) {
      body = options.raw.data;
      headers['content-type'] = options.raw.contentType;
    } else if (options.body !== undefined) {
      body = JSON.stringify(options.body);
      headers['content-type'] = 'application/json';
    }
    const res = await fetch(`${this.baseUrl}/api${path}`, { method, headers, body });
    for (const line of res.headers.getSetCookie()) {
      const [pair] = line.split(';');
      if (!pair) continue;
      const name = pair.slice(0, pair.indexOf('='));
      const value = pair.slice(pair.indexOf('=') + 1);
      if (name.endsWith('medseal_session')) this.cookie = value ? pair : undefined;
      else if (value) this.otherCookies.set(name, pair);
      else this.otherCookies.delete(name);
    }
    const type = res.headers.get('content-type') ?? '';
    const parsed = type.includes('application/json')
      ? await res.json()
      : type.includes('octet-stream')
        ? new Uint8Array(await res.arrayBuffer())
        : await res.text();
    return { status: res.status, headers: res.headers, body: parsed as T };
  }

  get<T = unknown>(path: string, options?: RequestOptions) {
    return this.request<T>('GET', path, options);
  }
  post<T = unknown>(path: string, body?: unknown, options?: RequestOptions) {
    return this.request<T>('POST', path, { ...options, body });
  }
  put<T = unknown>(path: string, body?: unknown, options?: RequestOptions) {
    return this.request<T>('PUT', path, { ...options, body });
  }
  delete<T = unknown>(path: string, options?: RequestOptions) {
    return this.request<T>('DELETE', path, options);
  }
}

/** The error code of an error answer (or undefined). */
export function codeOf(res: ApiResponse): string | undefined {
  return (res.body as { error?: { code?: string } } | undefined)?.error?.code;
}
