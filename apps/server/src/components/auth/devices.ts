import { createHmac, hkdfSync, randomBytes, timingSafeEqual } from 'node:crypto';
import type { Request, Response } from 'express';
import { readCookie, serializeCookie } from '../../lib/cookies';
import type { Services } from '../../services';

/**
 * Known-device cookies (issue 15, finding 3; OWASP "device cookies"): a browser that once
 * logged in to an account carries an HMAC-signed id for that account, so its failed logins
 * are counted apart from everyone else's. An attacker failing logins from elsewhere then
 * slows down other unknown clients, never the real user on her own browser.
 */
const DEVICE_COOKIE_SECONDS = 365 * 24 * 3600;

function cookieName(secure: boolean): string {
  return secure ? '__Host-medseal_device' : 'medseal_device';
}

/** A key of its own, derived from a server secret (HKDF, distinct label): never in the database. */
function deviceKey(s: Services): Buffer {
  return Buffer.from(
    hkdfSync(
      'sha256',
      s.settings.secrets.fakeSeedKey,
      Buffer.alloc(0),
      'medseal/v1/known-device-cookie',
      32,
    ),
  );
}

function macOf(s: Services, email: string, id: string): Buffer {
  return createHmac('sha256', deviceKey(s))
    .update(`medseal/v1/known-device\n${email}\n${id}`)
    .digest();
}

/** The id of the known device the request comes from, if its cookie was issued for `email`. */
export function knownDevice(s: Services, req: Request, email: string): string | undefined {
  const value = readCookie(req.get('cookie'), cookieName(s.settings.secureCookies));
  const m = value === undefined ? null : /^([A-Za-z0-9_-]{22})\.([A-Za-z0-9_-]{43})$/.exec(value);
  if (!m?.[1] || !m[2]) return undefined;
  return timingSafeEqual(macOf(s, email, m[1]), Buffer.from(m[2], 'base64url')) ? m[1] : undefined;
}

/**
 * After a login that proved the account: (re)sets the device cookie for it, keeping the id
 * when the browser was already known to this account. One account per browser: the last.
 */
export function rememberDevice(s: Services, req: Request, res: Response, email: string): void {
  const id = knownDevice(s, req, email) ?? randomBytes(16).toString('base64url');
  const value = `${id}.${macOf(s, email, id).toString('base64url')}`;
  const secure = s.settings.secureCookies;
  res.append(
    'Set-Cookie',
    serializeCookie(cookieName(secure), value, { secure, maxAgeSeconds: DEVICE_COOKIE_SECONDS }),
  );
}

/** The rate-limit key of failed logins to `email` from this client: its device, or every unknown client. */
export function loginFailureKey(s: Services, req: Request, email: string): string {
  const device = knownDevice(s, req, email);
  return device ? `login-fail:${email}:device:${device}` : `login-fail:${email}:unknown-client`;
}
