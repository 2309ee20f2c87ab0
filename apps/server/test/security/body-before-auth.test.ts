import { request as httpRequest, type ClientRequest } from 'node:http';
import { readFileSync } from 'node:fs';
import { gzipSync } from 'node:zlib';
import { CSRF_HEADER } from '@medseal/contract';
import { ApiClient, codeOf } from '../helpers/client';
import { startServerProcess } from '../helpers/server-process';
import { newRecordId, registerUser, type TestUser } from '../helpers/users';
import { startTestServer } from '../support';

const MiB = 1024 * 1024;
const CHUNK = Buffer.alloc(MiB, 7);

interface Answer {
  status: number;
  ms: number;
}

/**
 * POSTs a `totalMiB` body written 1 MiB at a time (a bounded loop), stopping as soon as an
 * answer arrives; resolves with the status and the time to the answer.
 */
function upload(
  url: string,
  options: { totalMiB: number; cookie?: string; origin: string },
): Promise<Answer> {
  const started = Date.now();
  return new Promise((resolve, reject) => {
    let answered = false;
    const req: ClientRequest = httpRequest(url, {
      method: 'POST',
      headers: {
        'content-type': 'application/octet-stream',
        'content-length': String(options.totalMiB * MiB),
        [CSRF_HEADER]: '1',
        origin: options.origin,
        ...(options.cookie ? { cookie: options.cookie } : {}),
      },
    });
    req.on('response', (res) => {
      answered = true;
      res.resume();
      resolve({ status: res.statusCode ?? 0, ms: Date.now() - started });
      req.destroy();
    });
    // Writing after the server closed the connection fails; only an error before any answer counts.
    req.on('error', (error) => {
      if (!answered) reject(error);
    });
    void (async () => {
      for (let i = 0; i < options.totalMiB && !answered; i++) {
        if (!req.write(CHUNK)) await new Promise((r) => req.once('drain', r).once('close', r));
      }
    })();
  });
}

/** Resident memory of a process in bytes (Linux /proc). */
function rssOf(pid: number): number {
  const kib = /VmRSS:\s+(\d+) kB/.exec(readFileSync(`/proc/${pid}/status`, 'utf8'))?.[1];
  return Number(kib) * 1024;
}

describe('request bodies are read only after login (issue 15, finding 2)', () => {
  it('when an anonymous client sends 20 concurrent 20 MiB uploads, then each gets 401 quickly and the server memory stays within 100 MiB of idle', async () => {
    const server = await startServerProcess();
    const pid = server.child.pid as number;
    try {
      // Warm up (first requests load code paths), then take the idle size.
      for (let i = 0; i < 3; i++) await new ApiClient(server.baseUrl).get('/health');
      const idle = rssOf(pid);
      let peak = idle;
      const sampler = setInterval(() => (peak = Math.max(peak, rssOf(pid))), 25);
      const url = `${server.baseUrl}/api/records/${newRecordId()}/attachments`;
      const answers = await Promise.all(
        Array.from({ length: 20 }, () => upload(url, { totalMiB: 20, origin: server.baseUrl })),
      ).finally(() => clearInterval(sampler));
      peak = Math.max(peak, rssOf(pid));
      expect(answers.map((a) => a.status)).toEqual(Array(20).fill(401));
      // Quick = the answer comes without the body: far less than 20 MiB takes to send here.
      expect(Math.max(...answers.map((a) => a.ms))).toBeLessThan(5_000);
      expect(peak - idle).toBeLessThan(100 * MiB);
    } finally {
      server.child.kill('SIGKILL');
      await server.exited;
    }
  });

  describe('with a running server', () => {
    let server: Awaited<ReturnType<typeof startTestServer>>;
    let alice: TestUser;
    beforeAll(async () => {
      server = await startTestServer();
      alice = await registerUser(server.baseUrl, { name: 'Alice' });
    });
    afterAll(() => server.close());

    it('when a request body is gzip-compressed, then 415 unsupported-content-encoding and nothing is inflated', async () => {
      const body = gzipSync(JSON.stringify({ email: alice.email, loginSecret: alice.loginSecret }));
      const res = await new ApiClient(server.baseUrl).request('POST', '/auth/login', {
        raw: { data: body, contentType: 'application/json' },
        headers: { 'content-encoding': 'gzip' },
      });
      expect(res.status).toBe(415);
      expect(codeOf(res)).toBe('unsupported-content-encoding');
    });

    it('when a session has 4 uploads in flight, then a 5th gets 429 too-many-uploads; and an address gets 8 in all', async () => {
      const url = `${server.baseUrl}/api/records/${newRecordId()}/attachments`;
      const open: ClientRequest[] = [];
      /** An upload that sends its headers and 1 MiB, then waits (holding its slot). */
      const hold = (cookie: string) => {
        const req = httpRequest(url, {
          method: 'POST',
          headers: {
            'content-type': 'application/octet-stream',
            'content-length': String(2 * MiB),
            [CSRF_HEADER]: '1',
            origin: server.baseUrl,
            cookie,
          },
        });
        req.on('error', () => undefined);
        req.write(CHUNK);
        open.push(req);
      };
      /** A small upload, retried (bounded) until the held ones have taken their slots. */
      const refusedSoon = async (cookie: string) => {
        for (let i = 0; i < 50; i++) {
          const answer = await upload(url, { totalMiB: 1, cookie, origin: server.baseUrl });
          if (answer.status === 429) return true;
          await new Promise((r) => setTimeout(r, 100));
        }
        return false;
      };
      const bob = await registerUser(server.baseUrl, { name: 'Bob' });
      const carol = await registerUser(server.baseUrl, { name: 'Carol' });
      try {
        for (let i = 0; i < 4; i++) hold(alice.api.cookie as string);
        expect(await refusedSoon(alice.api.cookie as string)).toBe(true);
        // Bob (same address) still has his own 4; with them the address has its 8.
        const bobFifth = await upload(url, {
          totalMiB: 1,
          cookie: bob.api.cookie as string,
          origin: server.baseUrl,
        });
        expect(bobFifth.status).not.toBe(429);
        for (let i = 0; i < 4; i++) hold(bob.api.cookie as string);
        expect(await refusedSoon(carol.api.cookie as string)).toBe(true);
        const last = await new ApiClient(server.baseUrl).request(
          'POST',
          `/records/${newRecordId()}/attachments`,
          {
            raw: { data: CHUNK.subarray(0, 10), contentType: 'application/octet-stream' },
            cookie: carol.api.cookie as string,
          },
        );
        expect(codeOf(last)).toBe('too-many-uploads');
      } finally {
        for (const req of open) req.destroy();
      }
      // Slots come back when the uploads end.
      let code: string | undefined = 'too-many-uploads';
      for (let i = 0; i < 50 && code === 'too-many-uploads'; i++) {
        await new Promise((r) => setTimeout(r, 50));
        code = codeOf(
          await new ApiClient(server.baseUrl).request(
            'POST',
            `/records/${newRecordId()}/attachments`,
            {
              raw: { data: CHUNK.subarray(0, 10), contentType: 'application/octet-stream' },
              cookie: carol.api.cookie as string,
            },
          ),
        );
      }
      expect(code).toBe('record-not-found');
    });
  });
});
