import type { RequestHandler } from 'express';
import helmet from 'helmet';
import {
  CLIENT_STATUS_HEADER,
  CLIENT_VERSION_HEADER,
  CSRF_HEADER,
  securityErrorCodes,
} from '@medseal/contract';
import { isLoopbackAddress } from './client-address';
import { AppError } from './errors';

/**
 * Helmet with a strict CSP for the web app's documents and files. `'wasm-unsafe-eval'` is
 * there only because the Argon2id KDF runs as WebAssembly in the crypto worker; no inline
 * script, no eval.
 */
export function documentHeaders(): RequestHandler {
  return helmet({
    contentSecurityPolicy: {
      useDefaults: false,
      directives: {
        defaultSrc: ["'self'"],
        scriptSrc: ["'self'", "'wasm-unsafe-eval'"],
        workerSrc: ["'self'"],
        styleSrc: ["'self'"],
        imgSrc: ["'self'", 'data:', 'blob:'],
        fontSrc: ["'self'"],
        connectSrc: ["'self'"],
        objectSrc: ["'none'"],
        baseUri: ["'none'"],
        formAction: ["'self'"],
        frameAncestors: ["'none'"],
      },
    },
    strictTransportSecurity: HSTS,
    referrerPolicy: { policy: 'no-referrer' },
    crossOriginEmbedderPolicy: false,
  });
}

/**
 * The headers an API answer needs (OWASP REST Security): it is JSON or a download and must
 * never run, load or embed anything, so its CSP is `default-src 'none'` (stricter than the
 * app's) and framing is denied; HSTS, nosniff, and `Cross-Origin-Resource-Policy:
 * same-origin` so no other site can pull it in. Helmet's document-only headers (COOP,
 * Origin-Agent-Cluster, DNS prefetch, X-Download-Options, X-Permitted-Cross-Domain-Policies,
 * X-XSS-Protection, Referrer-Policy) do nothing on a JSON answer and are left off: set on
 * every request, helmet's full set cost ~7% of a cached record GET's rate (server bench).
 */
export function apiHeaders(): RequestHandler {
  return helmet({
    contentSecurityPolicy: {
      useDefaults: false,
      directives: { defaultSrc: ["'none'"], frameAncestors: ["'none'"] },
    },
    strictTransportSecurity: HSTS,
    xFrameOptions: { action: 'deny' },
    crossOriginResourcePolicy: { policy: 'same-origin' },
    crossOriginEmbedderPolicy: false,
    crossOriginOpenerPolicy: false,
    originAgentCluster: false,
    referrerPolicy: false,
    xDnsPrefetchControl: false,
    xDownloadOptions: false,
    xPermittedCrossDomainPolicies: false,
    xXssProtection: false,
  });
}

const HSTS = { maxAge: 63_072_000, includeSubDomains: true };

/** API answers are never cached: they hold personal data even when encrypted. */
export const noStore: RequestHandler = (_req, res, next) => {
  res.setHeader('Cache-Control', 'no-store');
  next();
};

/** Host names a server answers; `loopback`: also `localhost` and loopback addresses. */
export interface AllowedHosts {
  names: readonly string[];
  loopback: boolean;
}

/**
 * DNS rebinding defence (issue 15, finding 6): a page on the attacker's name, rebound to
 * this server's address, sends its own name as Host (and as Origin, which then passes the
 * same-host CSRF check). Only configured names are answered; the rest get 421 Misdirected
 * Request. `/api/health` stays open for load balancers that probe by address.
 */
export function hostGuard(allowed: AllowedHosts): RequestHandler {
  const names = new Set(allowed.names.map((n) => n.toLowerCase()));
  return (req, _res, next) => {
    if (req.path === '/api/health') return next();
    // Express strips the port and the brackets of an IPv6 literal, and reads X-Forwarded-Host
    // only from trusted proxies.
    const host = req.hostname?.toLowerCase();
    const ok =
      host !== undefined &&
      (names.has(host) ||
        (allowed.loopback &&
          (host === 'localhost' || isLoopbackAddress(host.replace(/^\[|\]$/g, '')))));
    if (ok) return next();
    next(
      new AppError({
        status: 421,
        code: securityErrorCodes.hostNotAllowed,
        message: 'This server does not answer for that host name.',
      }),
    );
  };
}

const SAFE_METHODS = new Set(['GET', 'HEAD', 'OPTIONS']);

/**
 * CSRF defence for state-changing requests (DESIGN §4): the custom header
 * `X-Medseal-CSRF: 1` (a cross-site form cannot set it, and a cross-site fetch with it
 * needs a CORS preflight we never grant) and an Origin that is allowed — the configured
 * list when given, otherwise the request's own host.
 */
export function csrfGuard(options: { allowedOrigins: readonly string[] }): RequestHandler {
  return (req, _res, next) => {
    if (SAFE_METHODS.has(req.method)) return next();
    if (req.get(CSRF_HEADER) !== '1') {
      return next(
        new AppError({
          status: 403,
          code: 'csrf-header-missing',
          message: `State-changing requests need the ${CSRF_HEADER} header.`,
        }),
      );
    }
    const origin = req.get('origin');
    if (!origin || !originAllowed(origin, req.get('host'), options.allowedOrigins)) {
      return next(
        new AppError({
          status: 403,
          code: 'origin-mismatch',
          message: 'The request comes from an origin that is not allowed.',
        }),
      );
    }
    next();
  };
}

function originAllowed(
  origin: string,
  host: string | undefined,
  allowed: readonly string[],
): boolean {
  if (allowed.length > 0) return allowed.includes(origin);
  try {
    return host !== undefined && new URL(origin).host === host;
  } catch {
    return false;
  }
}

/** Compares dotted versions numerically; -1, 0 or 1. */
export function compareVersions(a: string, b: string): number {
  const pa = a.split('.').map((n) => Number.parseInt(n, 10) || 0);
  const pb = b.split('.').map((n) => Number.parseInt(n, 10) || 0);
  for (let i = 0; i < Math.max(pa.length, pb.length); i++) {
    const d = (pa[i] ?? 0) - (pb[i] ?? 0);
    if (d !== 0) return Math.sign(d);
  }
  return 0;
}

/**
 * Clients send `X-Medseal-Client: <semver>`; one older than the minimum gets
 * `X-Medseal-Client-Status: update-required` on every answer so the UI can ask the user to
 * reload. Current clients get `ok`.
 */
export function clientVersionHeader(options: { minClientVersion: string }): RequestHandler {
  return (req, res, next) => {
    const version = req.get(CLIENT_VERSION_HEADER);
    if (version && /^\d+\.\d+\.\d+/.test(version)) {
      res.setHeader(
        CLIENT_STATUS_HEADER,
        compareVersions(version, options.minClientVersion) < 0 ? 'update-required' : 'ok',
      );
    }
    next();
  };
}
