import { request } from 'node:http';
import { CSRF_HEADER } from '@medseal/contract';
import { encryptTo } from './helpers/pgp';
import { createRecordAs } from './helpers/records';
import { registerUser } from './helpers/users';
import { startTestServer } from './support';

describe('graceful shutdown', () => {
  it('when shutdown starts during an upload, then the upload still finishes with 201, new connections are refused, and shutdown then completes', async () => {
    const server = await startTestServer();
    try {
      const alice = await registerUser(server.baseUrl, { name: 'Alice' });
      const record = await createRecordAs(alice, alice, [alice]);
      const data = await encryptTo([alice.publicKey], Buffer.alloc(256 * 1024, 1), { armor: false });
      const url = new URL(`${server.baseUrl}/api/records/${record.id}/attachments`);
      const status = new Promise<number>((resolve, reject) => {
        const req = request(url, {
          method: 'POST',
          headers: {
            cookie: alice.api.cookie ?? '',
            origin: server.baseUrl,
            [CSRF_HEADER]: '1',
            'content-type': 'application/octet-stream',
            'content-length': String(data.length),
          },
        });
        req.on('response', (res) => {
          res.resume();
          resolve(res.statusCode ?? 0);
        });
        req.on('error', reject);
        req.write(data.subarray(0, 1000));
        setTimeout(() => req.end(data.subarray(1000)), 400);
      });
      await new Promise((r) => setTimeout(r, 100));
      let shutDown = false;
      const stopping = server.shutdown(10_000).then(() => {
        shutDown = true;
      });
      await new Promise((r) => setTimeout(r, 50));
      await expect(fetch(`${server.baseUrl}/api/health`)).rejects.toThrow();
      expect(shutDown).toBe(false);
      expect(await status).toBe(201);
      await stopping;
      expect(shutDown).toBe(true);
      expect(await server.connection.collection('attachments').countDocuments({ recordId: record.id })).toBe(1);
    } finally {
      await server.close();
    }
  });
});
