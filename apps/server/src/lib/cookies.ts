/** Reads one cookie from a Cookie header; names and values are taken as sent, no decoding. */
export function readCookie(header: string | undefined, name: string): string | undefined {
  if (!header) return undefined;
  for (const part of header.split(';')) {
    const eq = part.indexOf('=');
    if (eq < 0) continue;
    if (part.slice(0, eq).trim() === name) return part.slice(eq + 1).trim();
  }
  return undefined;
}

export interface CookieOptions {
  secure: boolean;
  /** Without it, a session cookie: the browser drops it when it closes. */
  maxAgeSeconds?: number;
}

/**
 * A session cookie: HttpOnly, SameSite=Strict, Path=/; with `secure` also Secure (the
 * `__Host-` name prefix requires Secure, Path=/ and no Domain — DESIGN §4).
 */
export function serializeCookie(name: string, value: string, options: CookieOptions): string {
  const parts = [`${name}=${value}`, 'Path=/', 'HttpOnly', 'SameSite=Strict'];
  if (options.maxAgeSeconds !== undefined)
    parts.push(`Max-Age=${Math.max(0, Math.floor(options.maxAgeSeconds))}`);
  if (options.secure) parts.push('Secure');
  return parts.join('; ');
}
