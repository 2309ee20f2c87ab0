/**
 * The load generator, in a process of its own (issue 11: never inside the server's process):
 *   tsx bench/load.ts '<LoadConfig as JSON>'
 * runs autocannon and prints one JSON line, a LoadResult. A POST with `create` sends a new
 * record id each time (built here, in the generator's process).
 */
import { randomBytes } from 'node:crypto';
import autocannon from 'autocannon';

export type LoadRequest =
  | { method: 'GET'; path: string }
  | {
      method: 'POST';
      path: string;
      create: {
        ownerId: string;
        recipients: { userId: string; fingerprint: string }[];
        message: string;
      };
    };

export interface LoadConfig {
  url: string;
  seconds: number;
  connections: number;
  headers?: Record<string, string>;
  /** Each connection sends these in turn; none: GET `url`. */
  requests?: LoadRequest[];
}

export interface LoadResult {
  reqPerSec: number;
  p50: number;
  p99: number;
  errors: number;
  non2xx: number;
  codes: Record<string, number>;
}

async function main(): Promise<void> {
  const config = JSON.parse(process.argv[2] ?? '{}') as LoadConfig;
  const requests = config.requests?.map((r): autocannon.Request => {
    if (r.method === 'GET') return { method: 'GET', path: r.path };
    const { create } = r;
    return {
      method: 'POST',
      path: r.path,
      headers: { 'content-type': 'application/json' },
      setupRequest: (req) => ({
        ...req,
        body: JSON.stringify({ recordId: randomBytes(16).toString('base64url'), ...create }),
      }),
    };
  });
  const result = await autocannon({
    url: config.url,
    connections: config.connections,
    duration: config.seconds,
    ...(config.headers ? { headers: config.headers } : {}),
    ...(requests ? { requests } : {}),
  });
  const codes = Object.fromEntries(
    Object.entries(result.statusCodeStats ?? {}).map(([code, stat]) => [
      code,
      (stat as { count: number }).count,
    ]),
  );
  const out: LoadResult = {
    reqPerSec: result.requests.average,
    p50: result.latency.p50,
    p99: result.latency.p99,
    errors: result.errors + result.timeouts,
    non2xx: result.non2xx,
    codes,
  };
  process.stdout.write(`${JSON.stringify(out)}\n`);
}

void main();
