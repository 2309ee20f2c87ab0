import { ApiClient, codeOf } from '../helpers/client';
import { registerUser, registrationFor } from '../helpers/users';
import { startTestServer, type TestServer } from '../support';

let server: TestServer;
beforeAll(async () => {
  server = await startTestServer();
});
afterAll(() => server.close());

const RLO = '\u202e';

describe('control and bidi characters in emails and names (issue 15, finding 12)', () => {
  it('when an account registers with a bidi override in its email, then 400 unsafe-characters and no account is made', async () => {
    const { body } = await registrationFor({ name: 'Mallory' });
    const email = `gro.elpmaxe@${RLO}yrollam`;
    const res = await new ApiClient(server.baseUrl).post('/auth/register', {
      ...body,
      email: `x${email}.org`,
    });
    expect(res.status).toBe(400);
    expect(codeOf(res)).toBe('unsafe-characters');
    expect(await server.connection.collection('users').countDocuments({ name: 'Mallory' })).toBe(0);
  });

  it('when an email with a control character is looked up (params, login, directory), then 400 unsafe-characters', async () => {
    const alice = await registerUser(server.baseUrl, { name: 'Alice' });
    const api = new ApiClient(server.baseUrl);
    expect(
      codeOf(await api.get(`/auth/params?email=${encodeURIComponent(`a\u0000b@example.org`)}`)),
    ).toBe('unsafe-characters');
    expect(
      codeOf(
        await api.post('/auth/login', {
          email: `${RLO}${alice.email}`,
          loginSecret: alice.loginSecret,
        }),
      ),
    ).toBe('unsafe-characters');
    expect(
      codeOf(await alice.api.get(`/users?email=${encodeURIComponent(`${alice.email}\u200f`)}`)),
    ).toBe('unsafe-characters');
  });

  it('when an account registers with a control or bidi-override character in its display name, then 400 unsafe-characters and no account is made', async () => {
    for (const name of [`Dr ${RLO}nnA`, 'Ann\u0007', 'Ann\u2066Bob\u2069']) {
      const { body } = await registrationFor({ name: 'Placeholder' });
      const res = await new ApiClient(server.baseUrl).post('/auth/register', { ...body, name });
      expect({ name, status: res.status, code: codeOf(res) }).toEqual({
        name,
        status: 400,
        code: 'unsafe-characters',
      });
      expect(
        await server.connection.collection('users').countDocuments({ email: body.email }),
      ).toBe(0);
    }
  });

  it('when a practice is named with a bidi override, then 400 unsafe-characters (the same validator)', async () => {
    const doctor = await registerUser(server.baseUrl, { name: 'Doc', role: 'doctor' });
    const res = await doctor.api.post('/practices', { name: `Clinic ${RLO}cilbup` });
    expect(codeOf(res)).toBe('unsafe-characters');
  });
});
