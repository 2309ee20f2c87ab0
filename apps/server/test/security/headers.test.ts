import { ApiClient } from '../helpers/client';
import { startTestServer, type TestServer } from '../support';

let server: TestServer;
beforeAll(async () => {
  server = await startTestServer();
});
afterAll(() => server.close());

describe('security headers', () => {
  it('when any API answer is served, then a CSP that allows nothing, HSTS, nosniff, frame denial, same-origin resources and Cache-Control: no-store', async () => {
    const api = new ApiClient(server.baseUrl);
    for (const res of [
      await api.get('/auth/params?email=a%40example.org'),
      await api.get('/records/nope'),
      await api.get('/no-such-endpoint'),
    ]) {
      expect(res.headers.get('content-security-policy')).toBe(
        "default-src 'none';frame-ancestors 'none'",
      );
      expect(res.headers.get('strict-transport-security')).toBe(
        'max-age=63072000; includeSubDomains',
      );
      expect(res.headers.get('x-content-type-options')).toBe('nosniff');
      expect(res.headers.get('x-frame-options')).toBe('DENY');
      expect(res.headers.get('cross-origin-resource-policy')).toBe('same-origin');
      expect(res.headers.get('cache-control')).toBe('no-store');
      expect(res.headers.get('x-powered-by')).toBeNull();
    }
  });

  it('when an outdated client sends its version, then it is told to update; a current one is told ok', async () => {
    const api = new ApiClient(server.baseUrl);
    const old = await api.get('/auth/params?email=a%40example.org', {
      headers: { 'x-medseal-client': '0.9.0' },
    });
    expect(old.headers.get('x-medseal-client-status')).toBe('update-required');
    const current = await api.get('/auth/params?email=a%40example.org', {
      headers: { 'x-medseal-client': '1.0.0' },
    });
    expect(current.headers.get('x-medseal-client-status')).toBe('ok');
  });

  it('when the OpenAPI document is fetched, then it lists the API generated from the contract', async () => {
    const res = await new ApiClient(server.baseUrl).get<{
      openapi: string;
      paths: Record<string, unknown>;
    }>('/openapi.json');
    expect(res.status).toBe(200);
    expect(res.body.openapi).toBe('3.1.0');
    expect(Object.keys(res.body.paths)).toEqual(
      expect.arrayContaining([
        '/api/records/{recordId}',
        '/api/auth/login',
        '/api/records/{recordId}/grants',
      ]),
    );
  });
});
