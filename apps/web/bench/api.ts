// A minimal Node client for seeding the bench through the real API (same headers as the app).
export interface Session {
  base: string;
  cookie: string;
}

export async function api<T>(s: { base: string; cookie?: string }, method: string, path: string, body?: unknown): Promise<T> {
  const res = await fetch(`${s.base}/api${path}`, {
    method,
    headers: {
      'content-type': 'application/json',
      'x-medseal-csrf': '1',
      'x-medseal-client': '1.0.0',
      origin: s.base,
      ...(s.cookie ? { cookie: s.cookie } : {}),
    },
    ...(body === undefined ? {} : { body: JSON.stringify(body) }),
  });
  const text = await res.text();
  if (!res.ok) throw new Error(`${method} ${path}: HTTP ${res.status} ${text.slice(0, 200)}`);
  const setCookie = res.headers.get('set-cookie');
  const json = (text ? JSON.parse(text) : undefined) as T;
  if (setCookie && typeof json === 'object' && json !== null) Object.defineProperty(json, '__cookie', { value: setCookie.split(';')[0] });
  return json;
}

export function cookieOf(response: unknown): string {
  const c = (response as { __cookie?: string }).__cookie;
  if (!c) throw new Error('no session cookie in the response');
  return c;
}
