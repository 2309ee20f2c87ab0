import { request as httpRequest } from 'node:http';
import { CSRF_HEADER } from '@medseal/contract';
import { codeOf, type ApiResponse } from '../helpers/client';
import { registerUser } from '../helpers/users';
import { loadConfig } from '../../src/lib/config';
import { generateSecrets } from '../../src/lib/secrets';
import { settingsFromConfig } from '../../src/settings';
import { startTestServer } from '../support';

const EXTERNAL_DB = 'mongodb://db.example:27017/medseal';

/** A request with a Host header of our choosing (fetch does not let a caller set Host). */
function withHost(
  baseUrl: string,
  host: string,
  method: string,
  path: string,
  body?: unknown,
): Promise<ApiResponse> {
  return new Promise((resolve, reject) => {
    const headers: Record<string, string> = { host };
    if (method !== 'GET')
      Object.assign(headers, {
        [CSRF_HEADER]: '1',
        origin: `http://${host}`,
        'content-type': 'application/json',
      });
    const req = httpRequest(`${baseUrl}/api${path}`, { method, headers }, (res) => {
      const chunks: Buffer[] = [];
      res.on('data', (c: Buffer) => chunks.push(c));
      res.on('end', () =>
        resolve({
          status: res.statusCode ?? 0,
          headers: new Headers(),
          body: JSON.parse(Buffer.concat(chunks).toString('utf8') || 'null'),
        }),
      );
    });
    req.on('error', reject);
    req.end(body === undefined ? undefined : JSON.stringify(body));
  });
}

describe('secure by default (issue 15, finding 4)', () => {
  it('when nothing is configured (NODE_ENV unset), then the session cookie is Secure with the __Host- prefix', async () => {
    const settings = settingsFromConfig(loadConfig({}), generateSecrets());
    expect(settings.secureCookies).toBe(true);
    const server = await startTestServer({ settings: { secureCookies: settings.secureCookies } });
    try {
      const alice = await registerUser(server.baseUrl, { name: 'Alice' });
      expect(alice.api.cookie).toMatch(/^__Host-medseal_session=/);
      const res = await alice.api.post('/auth/login', {
        email: alice.email,
        loginSecret: alice.loginSecret,
      });
      const cookie =
        res.headers.getSetCookie().find((c) => c.startsWith('__Host-medseal_session=')) ?? '';
      expect(cookie.split('; ')).toEqual(
        expect.arrayContaining(['Secure', 'HttpOnly', 'SameSite=Strict', 'Path=/']),
      );
    } finally {
      await server.close();
    }
  });

  it('when plain-HTTP cookies are asked for, then only a loopback HOST may have them, and the old setting is refused', () => {
    expect(
      settingsFromConfig(loadConfig({ MEDSEAL_LOOPBACK_HTTP_COOKIES: 'true' }), generateSecrets())
        .secureCookies,
    ).toBe(false);
    expect(
      settingsFromConfig(
        loadConfig({ MEDSEAL_LOOPBACK_HTTP_COOKIES: 'true', HOST: '::1' }),
        generateSecrets(),
      ).secureCookies,
    ).toBe(false);
    expect(() => loadConfig({ MEDSEAL_LOOPBACK_HTTP_COOKIES: 'true', HOST: '0.0.0.0' })).toThrow(
      /loopback HOST/,
    );
    expect(() =>
      loadConfig({ MEDSEAL_LOOPBACK_HTTP_COOKIES: 'true', HOST: 'medseal.example' }),
    ).toThrow(/loopback HOST/);
    expect(() => loadConfig({ MEDSEAL_INSECURE_COOKIES: 'true' })).toThrow(
      /MEDSEAL_LOOPBACK_HTTP_COOKIES/,
    );
  });
});

describe('DNS rebinding (issue 15, finding 6)', () => {
  it('when a request names a host that is not allowed (and an Origin to match), then 421 host-not-allowed; health stays open', async () => {
    const server = await startTestServer({
      settings: { allowedHosts: { names: ['medseal.example'], loopback: false } },
    });
    try {
      const at = (host: string, method: string, path: string, body?: unknown) =>
        withHost(server.baseUrl, host, method, path, body);
      // The rebinding page sends its own name as Host and as Origin.
      const rebound = await at('evil.example', 'POST', '/auth/login', {
        email: 'a@example.org',
        loginSecret: 'x'.repeat(43),
      });
      expect(rebound.status).toBe(421);
      expect(codeOf(rebound)).toBe('host-not-allowed');
      expect(codeOf(await at('evil.example', 'GET', '/auth/me'))).toBe('host-not-allowed');
      // Loopback is not allowed here (not the embedded mode).
      expect(codeOf(await at('127.0.0.1', 'GET', '/auth/me'))).toBe('host-not-allowed');
      expect((await at('medseal.example', 'GET', '/auth/me')).status).toBe(401);
      expect((await at('MEDSEAL.example:8443', 'GET', '/auth/me')).status).toBe(401);
      expect((await at('evil.example', 'GET', '/health')).status).toBe(200);
    } finally {
      await server.close();
    }
  });

  it('when the server runs embedded, then loopback names are answered; with an external database it needs allowed hosts', async () => {
    const embedded = settingsFromConfig(loadConfig({}), generateSecrets());
    expect(embedded.allowedHosts).toEqual({ names: [], loopback: true });
    expect(() =>
      settingsFromConfig(loadConfig({ MONGODB_URI: EXTERNAL_DB }), generateSecrets()),
    ).toThrow(/MEDSEAL_ALLOWED_HOSTS/);
    const site = settingsFromConfig(
      loadConfig({ MONGODB_URI: EXTERNAL_DB, MEDSEAL_ALLOWED_ORIGINS: 'https://medseal.example' }),
      generateSecrets(),
    );
    expect(site.allowedHosts).toEqual({ names: ['medseal.example'], loopback: false });
    const server = await startTestServer({ settings: { allowedHosts: embedded.allowedHosts } });
    try {
      const at = (host: string) => withHost(server.baseUrl, host, 'GET', '/auth/me');
      expect((await at(new URL(server.baseUrl).host)).status).toBe(401);
      expect((await at('localhost:8080')).status).toBe(401);
      expect((await at('[::1]:80')).status).toBe(401);
      expect((await at('127.1.2.3')).status).toBe(401);
      expect(codeOf(await at('evil.example'))).toBe('host-not-allowed');
      expect(codeOf(await at('localhost.evil.example'))).toBe('host-not-allowed');
    } finally {
      await server.close();
    }
  });
});
