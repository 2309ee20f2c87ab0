import { signChallenge } from '@medseal/crypto';
import {
  authParamsResponseSchema,
  meSchema,
  recoveryStartResponseSchema,
  sessionListResponseSchema,
  sessionStartResponseSchema,
  type RecoveryStartResponse,
} from '@medseal/contract';
import { ApiClient, codeOf } from './helpers/client';
import { hookedInto } from './helpers/hooks';
import {
  fixture,
  newPassword,
  randomSecret,
  recoveredPassword,
  registerUser,
  registrationFor,
  TEST_KDF,
} from './helpers/users';
import { startTestServer, type TestServer } from './support';

let server: TestServer;
beforeAll(async () => {
  server = await startTestServer();
});
afterAll(() => server.close());

describe('registration and login', () => {
  it('when a user registers, then 201 with a session cookie (HttpOnly, SameSite=Strict) and the server-computed fingerprint', async () => {
    const { key, body } = await registrationFor({ name: 'Alice Patient' });
    const api = new ApiClient(server.baseUrl);
    const res = await api.post('/auth/register', body);
    expect(res.status).toBe(201);
    const start = sessionStartResponseSchema.parse(res.body);
    expect(start.user.fingerprint).toBe(key.fingerprint);
    expect(start.encryptedPrivateKey).toBe(body.encryptedPrivateKey);
    const cookie = res.headers.getSetCookie()[0] ?? '';
    // A session cookie (no Max-Age): "stay unlocked" was not asked (issue 15, finding 7).
    expect(cookie).toMatch(
      /^medseal_session=[A-Za-z0-9_-]{43}; Path=\/; HttpOnly; SameSite=Strict$/,
    );
    const me = await api.get('/auth/me');
    expect(me.status).toBe(200);
    expect(meSchema.parse(me.body).email).toBe(body.email);
  });

  it('when the same email registers twice, then 409 email-taken', async () => {
    const alice = await registerUser(server.baseUrl, { name: 'Dup' });
    const { body } = await registrationFor({ name: 'Dup', email: alice.email });
    const res = await new ApiClient(server.baseUrl).post('/auth/register', body);
    expect(res.status).toBe(409);
    expect(codeOf(res)).toBe('email-taken');
  });

  it('when registering with a key that is not a usable public key, then 400 with the key error code and nothing stored', async () => {
    for (const [file, code] of [
      ['good.sec.asc', 'not-public-key'],
      ['rsa2048.pub.asc', 'weak-key'],
      ['expired.pub.asc', 'key-expired'],
    ] as const) {
      const { body } = await registrationFor({ name: 'Bad Key' });
      const res = await new ApiClient(server.baseUrl).post('/auth/register', {
        ...body,
        publicKey: fixture(file),
      });
      expect({ file, status: res.status, code: codeOf(res) }).toEqual({ file, status: 400, code });
      expect(
        await server.connection.collection('users').countDocuments({ email: body.email }),
      ).toBe(0);
    }
  });

  it('when a user logs in with the right secret, then 200 with the locked private key; with a wrong one, then 401 invalid-credentials', async () => {
    const alice = await registerUser(server.baseUrl, { name: 'Login' });
    const api = new ApiClient(server.baseUrl);
    const wrong = await api.post('/auth/login', {
      email: alice.email,
      loginSecret: randomSecret(),
    });
    expect(wrong.status).toBe(401);
    expect(codeOf(wrong)).toBe('invalid-credentials');
    const ok = await api.post('/auth/login', {
      email: alice.email,
      loginSecret: alice.loginSecret,
    });
    expect(ok.status).toBe(200);
    expect(sessionStartResponseSchema.parse(ok.body).encryptedPrivateKey).toBe(
      fixture('locked-private-key.asc'),
    );
  });

  it('when the database is read directly, then it holds no login secret and no private key, only the peppered hash and sealed blobs', async () => {
    const { body } = await registrationFor({ name: 'Stored' });
    await new ApiClient(server.baseUrl).post('/auth/register', body);
    const raw = await server.connection.collection('users').findOne({ email: body.email });
    const text = JSON.stringify(raw);
    expect(text).not.toContain(body.loginSecret);
    expect(text).not.toContain('PRIVATE KEY');
    expect(String(raw?.loginHash)).toMatch(/^\$argon2id\$v=19\$m=(\d+),t=(\d+),p=1\$/);
    const [, m, t] = /m=(\d+),t=(\d+)/.exec(String(raw?.loginHash)) ?? [];
    expect(Number(m)).toBeGreaterThanOrEqual(19 * 1024);
    expect(Number(t)).toBeGreaterThanOrEqual(2);
  });

  it('when the stored hash itself is sent as the login secret, then login fails', async () => {
    const alice = await registerUser(server.baseUrl, { name: 'Hash Replay' });
    const raw = await server.connection.collection('users').findOne({ email: alice.email });
    const hash = String(raw?.loginHash);
    const asSecret = Buffer.from(hash).subarray(0, 32).toString('base64url');
    const res = await new ApiClient(server.baseUrl).post('/auth/login', {
      email: alice.email,
      loginSecret: asSecret,
    });
    expect(res.status).toBe(401);
  });
});

describe('pre-login parameters', () => {
  it('when the email is known, then its salt seed and KDF; when unknown, then the same shape, the same on every call', async () => {
    const { body } = await registrationFor({ name: 'Params' });
    await new ApiClient(server.baseUrl).post('/auth/register', body);
    const api = new ApiClient(server.baseUrl);
    const known = await api.get(`/auth/params?email=${encodeURIComponent(body.email)}`);
    expect(authParamsResponseSchema.parse(known.body)).toEqual({
      saltSeed: body.saltSeed,
      kdf: TEST_KDF,
    });

    const unknown1 = await api.get('/auth/params?email=nobody-here%40example.org');
    const unknown2 = await api.get('/auth/params?email=nobody-here%40example.org');
    const other = await api.get('/auth/params?email=someone-else%40example.org');
    expect(unknown1.status).toBe(200);
    expect(Object.keys(unknown1.body as object).sort()).toEqual(
      Object.keys(known.body as object).sort(),
    );
    expect(authParamsResponseSchema.parse(unknown1.body)).toEqual(unknown2.body);
    expect((unknown1.body as { saltSeed: string }).saltSeed).not.toBe(
      (other.body as { saltSeed: string }).saltSeed,
    );
  });
});

describe('one account per key', () => {
  it("when someone registers with another user's public key, then 409 key-taken and no account is made", async () => {
    const alice = await registerUser(server.baseUrl, { name: 'Dr Real' });
    const { body } = await registrationFor({ name: 'Dr Real' });
    const res = await new ApiClient(server.baseUrl).post('/auth/register', {
      ...body,
      publicKey: alice.publicKey,
    });
    expect({ status: res.status, code: codeOf(res) }).toEqual({ status: 409, code: 'key-taken' });
    expect(
      await server.connection
        .collection('users')
        .countDocuments({ fingerprint: alice.fingerprint }),
    ).toBe(1);
  });
});

describe('sessions and password change', () => {
  it('when a user lists sessions and ends another one, then that cookie stops working', async () => {
    const alice = await registerUser(server.baseUrl, { name: 'Sessions' });
    const laptop = new ApiClient(server.baseUrl);
    await laptop.post('/auth/login', { email: alice.email, loginSecret: alice.loginSecret });
    const list = sessionListResponseSchema.parse((await alice.api.get('/auth/sessions')).body);
    expect(list.sessions).toHaveLength(2);
    const other = list.sessions.find((x) => !x.current);
    expect(other).toBeDefined();
    expect((await alice.api.delete(`/auth/sessions/${other?.id}`)).status).toBe(204);
    expect((await laptop.get('/auth/me')).status).toBe(401);
    expect((await alice.api.get('/auth/me')).status).toBe(200);
  });

  it("when someone tries to end another user's session, then 404 and it keeps working", async () => {
    const alice = await registerUser(server.baseUrl, { name: 'Victim' });
    const mallory = await registerUser(server.baseUrl, { name: 'Mallory' });
    const [session] = sessionListResponseSchema.parse(
      (await alice.api.get('/auth/sessions')).body,
    ).sessions;
    const res = await mallory.api.delete(`/auth/sessions/${session?.id}`);
    expect(res.status).toBe(404);
    expect((await alice.api.get('/auth/me')).status).toBe(200);
  });

  it('when the password changes, then the other sessions end, the old secret fails and the new salt seed is served', async () => {
    const alice = await registerUser(server.baseUrl, { name: 'Changer' });
    const phone = new ApiClient(server.baseUrl);
    await phone.post('/auth/login', { email: alice.email, loginSecret: alice.loginSecret });
    const newLoginSecret = randomSecret();
    const newSaltSeed = randomSecret();
    const wrong = await alice.api.post('/auth/password', {
      currentLoginSecret: randomSecret(),
      ...newPassword({ newLoginSecret, newSaltSeed }),
    });
    expect(codeOf(wrong)).toBe('invalid-credentials');
    const res = await alice.api.post('/auth/password', {
      currentLoginSecret: alice.loginSecret,
      ...newPassword({ newLoginSecret, newSaltSeed }),
    });
    expect(res.status).toBe(204);
    expect((await phone.get('/auth/me')).status).toBe(401);
    expect((await alice.api.get('/auth/me')).status).toBe(200);
    const api = new ApiClient(server.baseUrl);
    expect(
      (await api.post('/auth/login', { email: alice.email, loginSecret: alice.loginSecret }))
        .status,
    ).toBe(401);
    expect(
      (await api.post('/auth/login', { email: alice.email, loginSecret: newLoginSecret })).status,
    ).toBe(200);
    expect(
      (await api.get(`/auth/params?email=${encodeURIComponent(alice.email)}`)).body,
    ).toMatchObject({ saltSeed: newSaltSeed });
  });

  it('when two password changes race from the same secret, then only one is stored and the other gets 401; the stored one logs in', async () => {
    const alice = await registerUser(server.baseUrl, { name: 'Racer' });
    const change = () => {
      const fields = newPassword();
      return alice.api
        .post('/auth/password', { currentLoginSecret: alice.loginSecret, ...fields })
        .then((res) => ({
          status: res.status,
          code: codeOf(res),
          newLoginSecret: fields.newLoginSecret,
        }));
    };
    const answers = await Promise.all([change(), change()]);
    const won = answers.filter((a) => a.status === 204);
    expect(won).toHaveLength(1);
    expect(answers.find((a) => a.status !== 204)).toMatchObject({
      status: 401,
      code: 'invalid-credentials',
    });
    const api = new ApiClient(server.baseUrl);
    expect(
      (await api.post('/auth/login', { email: alice.email, loginSecret: won[0]?.newLoginSecret }))
        .status,
    ).toBe(200);
  });
});

// A login is checked (a slow Argon2id hash), then its session stored. A password change landing
// in between ends the sessions there were; the one stored next must not outlive it.
describe('password change against a login and settings', () => {
  it('when the password changes while a login with the old one is being let in, then that login is refused and its session does not work', async () => {
    const alice = await registerUser(server.baseUrl, { name: 'Late login' });
    const newLoginSecret = randomSecret();
    const late = new ApiClient(server.baseUrl);
    const { answer, ran } = await hookedInto(
      server.connection,
      { model: 'Session', method: 'create', at: 'after' },
      async () =>
        (
          await alice.api.post('/auth/password', {
            currentLoginSecret: alice.loginSecret,
            ...newPassword({ newLoginSecret }),
          })
        ).status,
      () => late.post('/auth/login', { email: alice.email, loginSecret: alice.loginSecret }),
    );
    expect(ran).toBe(204);
    expect({ status: answer.status, code: codeOf(answer) }).toEqual({
      status: 401,
      code: 'invalid-credentials',
    });
    expect((await late.get('/auth/me')).status).toBe(401);
    const sessions = await alice.api.get('/auth/sessions');
    expect(sessionListResponseSchema.parse(sessions.body).sessions).toHaveLength(1);
  });

  // FerretDB v1 writes an updated user back whole: a setting saved while the password changed
  // put the old password back. Each round keeps saving settings until one change is answered.
  it('when settings are saved again and again while the password changes, then the new password is the one stored', async () => {
    const doctor = await registerUser(server.baseUrl, { name: 'Dr Busy', role: 'doctor' });
    let current = doctor.loginSecret;
    for (let round = 0; round < 30; round++) {
      const newLoginSecret = randomSecret();
      let changing = true;
      const change = doctor.api
        .post('/auth/password', { currentLoginSecret: current, ...newPassword({ newLoginSecret }) })
        .finally(() => (changing = false));
      const saved: number[] = [];
      const saving = async (listed: boolean) => {
        while (changing) saved.push((await doctor.api.put('/auth/me', { listed })).status);
      };
      await Promise.all([true, false, true, false, true, false].map(saving));
      expect((await change).status).toBe(204);
      expect(saved.filter((status) => status !== 200)).toEqual([]);
      current = newLoginSecret;
      const login = await new ApiClient(server.baseUrl).post('/auth/login', {
        email: doctor.email,
        loginSecret: current,
      });
      expect(login.status).toBe(200);
    }
  });
});

describe('recovery', () => {
  async function startRecovery(email: string): Promise<RecoveryStartResponse> {
    const res = await new ApiClient(server.baseUrl).post('/auth/recovery/start', { email });
    expect(res.status).toBe(200);
    return recoveryStartResponseSchema.parse(res.body);
  }

  it('when the challenge is signed with the account key, then the new password is set, all old sessions end and a new one starts', async () => {
    const alice = await registerUser(server.baseUrl, { name: 'Forgetful' });
    const start = await startRecovery(alice.email);
    expect(start.recoveryEncryptedPrivateKey).toBe(fixture('locked-private-key.asc'));
    const signature = await signChallenge({
      challenge: start.challenge,
      privateKey: alice.key.privateKey,
    });
    const api = new ApiClient(server.baseUrl);
    const newLoginSecret = randomSecret();
    const res = await api.post('/auth/recovery/complete', {
      challengeId: start.challengeId,
      signature,
      ...recoveredPassword({ newLoginSecret }),
    });
    expect(res.status).toBe(200);
    expect(sessionStartResponseSchema.parse(res.body).user.id).toBe(alice.id);
    expect((await alice.api.get('/auth/me')).status).toBe(401);
    expect((await api.get('/auth/me')).status).toBe(200);
    expect(
      (
        await new ApiClient(server.baseUrl).post('/auth/login', {
          email: alice.email,
          loginSecret: newLoginSecret,
        })
      ).status,
    ).toBe(200);

    const again = await new ApiClient(server.baseUrl).post('/auth/recovery/complete', {
      challengeId: start.challengeId,
      signature,
      ...recoveredPassword(),
    });
    expect(codeOf(again)).toBe('challenge-invalid');
  });

  // FerretDB v1 can give one challenge to two recoveries racing to take it (its find-and-delete
  // is not atomic); the challenge is put back here to force that, while the first is storing.
  it('when two recoveries use one challenge at once, then only the first is stored and the other gets challenge-invalid', async () => {
    const alice = await registerUser(server.baseUrl, { name: 'Twice' });
    const start = await startRecovery(alice.email);
    const signature = await signChallenge({
      challenge: start.challenge,
      privateKey: alice.key.privateKey,
    });
    const challenges = server.connection.collection('recovery_challenges');
    const stored = await challenges.findOne({ _id: start.challengeId } as never);
    const complete = (newLoginSecret: string) =>
      new ApiClient(server.baseUrl).post('/auth/recovery/complete', {
        challengeId: start.challengeId,
        signature,
        ...recoveredPassword({ newLoginSecret }),
      });
    const [first, second] = [randomSecret(), randomSecret()];
    const { answer, ran } = await hookedInto(
      server.connection,
      { model: 'User', method: 'updateOne', at: 'after' },
      async () => {
        await challenges.insertOne(stored as never);
        const res = await complete(second);
        return { status: res.status, code: codeOf(res) };
      },
      () => complete(first),
    );
    expect(answer.status).toBe(200);
    expect(ran).toEqual({ status: 400, code: 'challenge-invalid' });
    const login = (loginSecret: string) =>
      new ApiClient(server.baseUrl).post('/auth/login', { email: alice.email, loginSecret });
    expect((await login(first)).status).toBe(200);
    expect((await login(second)).status).toBe(401);
  });

  it("when the challenge is signed by another user's key, then 400 bad-signature and the password stays", async () => {
    const alice = await registerUser(server.baseUrl, { name: 'Target' });
    const mallory = await registerUser(server.baseUrl, { name: 'Attacker' });
    const start = await startRecovery(alice.email);
    const signature = await signChallenge({
      challenge: start.challenge,
      privateKey: mallory.key.privateKey,
    });
    const res = await new ApiClient(server.baseUrl).post('/auth/recovery/complete', {
      challengeId: start.challengeId,
      signature,
      ...recoveredPassword(),
    });
    expect(res.status).toBe(400);
    expect(codeOf(res)).toBe('bad-signature');
    expect(
      (
        await new ApiClient(server.baseUrl).post('/auth/login', {
          email: alice.email,
          loginSecret: alice.loginSecret,
        })
      ).status,
    ).toBe(200);
  });
});
