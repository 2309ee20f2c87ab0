import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { logPublicKeyOf } from '../src/lib/pgp';
import { startTestServer, testSettings } from './support';

describe('serving the built web app', () => {
  it('when a webDist folder is given, then its files and index.html for app routes are served with the app CSP, and unknown API paths stay JSON 404s with the API headers', async () => {
    const dist = await mkdtemp(join(tmpdir(), 'medseal-dist-'));
    await writeFile(
      join(dist, 'index.html'),
      '<!doctype html><title>Medseal</title><script type="module" src="/app.js"></script>',
    );
    await writeFile(join(dist, 'app.js'), 'console.log("app")');
    // A build names the log key it carries (kt:log-key); this one is for the test secrets.
    const { secrets } = testSettings();
    await writeFile(
      join(dist, 'medseal-build.json'),
      JSON.stringify({ ktLogPublicKey: logPublicKeyOf(secrets.ktLogKey) }),
    );
    const server = await startTestServer({ webDist: dist, settings: { secrets } });
    try {
      const index = await fetch(`${server.baseUrl}/records/abc`);
      expect(index.status).toBe(200);
      expect(await index.text()).toContain('<title>Medseal</title>');
      // The app's documents get the strict app CSP and helmet's document headers (API answers get their own: security/headers.test.ts).
      const csp = index.headers.get('content-security-policy') ?? '';
      for (const directive of [
        "script-src 'self' 'wasm-unsafe-eval'",
        "object-src 'none'",
        "base-uri 'none'",
        "frame-ancestors 'none'",
        "worker-src 'self'",
      ])
        expect(csp).toContain(directive);
      expect(csp).not.toContain('unsafe-inline');
      expect(index.headers.get('strict-transport-security')).toBe(
        'max-age=63072000; includeSubDomains',
      );
      expect(index.headers.get('cross-origin-opener-policy')).toBe('same-origin');
      expect(index.headers.get('referrer-policy')).toBe('no-referrer');
      const js = await fetch(`${server.baseUrl}/app.js`);
      expect(js.headers.get('content-type')).toMatch(/javascript/);
      const api = await fetch(`${server.baseUrl}/api/nope`);
      expect(api.status).toBe(404);
      expect(api.headers.get('content-security-policy')).toBe(
        "default-src 'none';frame-ancestors 'none'",
      );
      expect(await api.json()).toEqual({
        error: { code: 'not-found', message: 'No such resource.' },
      });
    } finally {
      await server.close();
      await rm(dist, { recursive: true, force: true });
    }
  });
});
