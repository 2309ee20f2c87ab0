import { Writable } from 'node:stream';
import { createLogger } from '../../src/lib/logger';
import { recipientsOf, createRecordAs } from '../helpers/records';
import { registerUser } from '../helpers/users';
import { startTestServer } from '../support';

describe('logs', () => {
  it('when a user registers, logs in and stores a record, then the logs hold no login secret, token, key, ciphertext or email', async () => {
    const lines: string[] = [];
    const sink = new Writable({
      write(chunk, _enc, done) {
        lines.push(String(chunk));
        done();
      },
    });
    const server = await startTestServer({ logger: createLogger('trace', sink) });
    try {
      const alice = await registerUser(server.baseUrl, { name: 'Alice' });
      await alice.api.post('/auth/login', { email: alice.email, loginSecret: alice.loginSecret });
      const record = await createRecordAs(alice, alice, [alice]);
      await alice.api.get(`/auth/params?email=${encodeURIComponent(alice.email)}`);
      await alice.api.put(`/records/${record.id}`, {
        baseVersion: 1,
        recipients: recipientsOf(alice),
        message: 'not armored',
      });
      const log = lines.join('');
      expect(lines.length).toBeGreaterThan(3);
      const token = (alice.api.cookie ?? '').split('=')[1] ?? '';
      for (const secret of [
        alice.loginSecret,
        token,
        'PGP MESSAGE',
        'PRIVATE KEY',
        'PUBLIC KEY',
        alice.email,
      ]) {
        expect({ secret: secret.slice(0, 12), found: log.includes(secret) }).toEqual({
          secret: secret.slice(0, 12),
          found: false,
        });
      }
    } finally {
      await server.close();
    }
  });
});
