import { randomBytes } from 'node:crypto';
import type { Request, Response } from 'express';
import { readCookie, serializeCookie } from '../../lib/cookies';
import { newId, sha256Hex } from '../../lib/ids';
import type { AuthContext } from '../../lib/routing';
import { cacheTag, type Services } from '../../services';

/** `__Host-` needs Secure; plain-HTTP localhost uses a plain name (DESIGN §4). */
export function sessionCookieName(secure: boolean): string {
  return secure ? '__Host-medseal_session' : 'medseal_session';
}

/**
 * Starts a session with a new random 256-bit token (a fresh one at every login, so a token
 * planted before login is worthless: no fixation) and sets the cookie. Only the token's
 * SHA-256 is stored. The cookie outlives the browser (Max-Age) only when the user asked to
 * stay unlocked; otherwise it is a session cookie (issue 15, finding 7). The server-side
 * expiry applies either way. Returns null when `stillCurrent` says no once it is stored.
 */
export async function startSession(
  services: Services,
  input: {
    userId: string;
    req: Request;
    res: Response;
    stayUnlocked: boolean;
    /** Asked once the session is stored: false ends it again (no cookie is set). */
    stillCurrent: () => Promise<boolean>;
  },
): Promise<string | null> {
  const { settings, models } = services;
  const token = randomBytes(32).toString('base64url');
  const now = new Date();
  const id = newId();
  const userAgent = input.req.get('user-agent')?.slice(0, 200);
  await models.sessions.create({
    _id: sha256Hex(token),
    publicId: id,
    userId: input.userId,
    createdAt: now,
    expiresAt: new Date(now.getTime() + settings.sessionTtlMs),
    ...(userAgent ? { userAgent } : {}),
  });
  if (!(await input.stillCurrent())) {
    await models.sessions.deleteOne({ _id: sha256Hex(token) });
    return null;
  }
  // A session cookie the request already carried is ended too.
  const previous = presentedToken(services, input.req);
  if (previous) {
    const hash = sha256Hex(previous);
    await models.sessions.deleteOne({ _id: hash });
    await services.feed.publish([cacheTag.session(hash)]);
  }
  // Expired sessions and challenges are swept now and then (no TTL index on FerretDB v1;
  // expiry is enforced by the queries themselves).
  if (Math.random() < 0.05) void sweepExpired(services).catch(() => undefined);
  input.res.append(
    'Set-Cookie',
    serializeCookie(sessionCookieName(settings.secureCookies), token, {
      secure: settings.secureCookies,
      ...(input.stayUnlocked ? { maxAgeSeconds: settings.sessionTtlMs / 1000 } : {}),
    }),
  );
  return id;
}

export function clearSessionCookie(services: Services, res: Response): void {
  const secure = services.settings.secureCookies;
  res.append(
    'Set-Cookie',
    serializeCookie(sessionCookieName(secure), '', { secure, maxAgeSeconds: 0 }),
  );
}

function presentedToken(services: Services, req: Request): string | undefined {
  const token = readCookie(req.get('cookie'), sessionCookieName(services.settings.secureCookies));
  return token && /^[A-Za-z0-9_-]{43}$/.test(token) ? token : undefined;
}

/** The caller's session, if the cookie names one that exists and has not expired. */
export async function authenticate(
  services: Services,
  req: Request,
): Promise<AuthContext | undefined> {
  const token = presentedToken(services, req);
  if (!token) return undefined;
  const hash = sha256Hex(token);
  const session = await services.caches.sessions.get(hash, () =>
    services.models.sessions.findById(hash).lean(),
  );
  if (!session || session.expiresAt.getTime() <= Date.now()) return undefined;
  return { userId: session.userId, sessionId: session.publicId, sessionKey: hash };
}

export async function sweepExpired(services: Services): Promise<void> {
  const now = new Date();
  await services.models.sessions.deleteMany({ expiresAt: { $lte: now } });
  await services.models.challenges.deleteMany({ expiresAt: { $lte: now } });
}
