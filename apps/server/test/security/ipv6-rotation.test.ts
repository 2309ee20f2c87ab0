import { CSRF_HEADER } from '@medseal/contract';
import { ApiClient, codeOf } from '../helpers/client';
import { clientAddressKey } from '../../src/lib/client-address';
import { defaultRateLimits } from '../../src/services';
import { startTestServer, type TestServer } from '../support';

let server: TestServer;
beforeAll(async () => {
  // One proxy in front, so X-Forwarded-For names the client (as behind a real balancer).
  server = await startTestServer({
    settings: { trustProxy: 1, rateLimits: { ...defaultRateLimits, paramsPerIp: 3 } },
  });
});
afterAll(() => server.close());

const paramsFrom = (address: string, i: number) =>
  new ApiClient(server.baseUrl).get(`/auth/params?email=v6-${i}%40example.org`, {
    headers: { 'x-forwarded-for': address, [CSRF_HEADER]: '1' },
  });

describe('rate limits per IPv6 /64 (issue 15, finding 5)', () => {
  it('when a client rotates its address inside one /64, then it shares one limit; another /64 has its own', async () => {
    const statuses: number[] = [];
    for (let i = 0; i < 5; i++)
      statuses.push((await paramsFrom(`2001:db8:aa:1::${(i + 1).toString(16)}:${i}`, i)).status);
    expect(statuses).toEqual([200, 200, 200, 429, 429]);
    const refused = await paramsFrom('2001:db8:aa:1:ffff:ffff:ffff:ffff', 9);
    expect(codeOf(refused)).toBe('rate-limited');
    expect((await paramsFrom('2001:db8:aa:2::1', 10)).status).toBe(200);
  });

  it('when addresses are keyed, then IPv6 is cut to its /64, IPv4 and IPv4-mapped IPv6 are one address each', () => {
    expect(clientAddressKey('2001:db8:aa:1:1:2:3:4')).toBe('2001:db8:aa:1::/64');
    expect(clientAddressKey('2001:0db8:00aa:0001::ffff')).toBe('2001:db8:aa:1::/64');
    expect(clientAddressKey('::ffff:192.0.2.7')).toBe('192.0.2.7');
    expect(clientAddressKey('192.0.2.7')).toBe('192.0.2.7');
    expect(clientAddressKey(undefined)).toBe('unknown');
    expect(clientAddressKey('not an address')).toBe('unknown');
  });
});
