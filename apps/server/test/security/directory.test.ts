import type { DirectoryResponse } from '@medseal/contract';
import { codeOf } from '../helpers/client';
import { giveConsent, putConsent } from '../helpers/consents';
import { createRecordAs } from '../helpers/records';
import { addMember, createPracticeAs, createTeamAs } from '../helpers/teams';
import { registerUser, type TestUser } from '../helpers/users';
import { defaultRateLimits } from '../../src/services';
import { startTestServer, type TestServer } from '../support';

let now = Date.now();
let server: TestServer;
let patient: TestUser;
let stranger: TestUser;
let connectedDoctor: TestUser;
let listedDoctor: TestUser;
let unlistedDoctor: TestUser;
let teamDoctor: TestUser;
let teamMate: TestUser;
let consentedDoctor: TestUser;
let withdrawnDoctor: TestUser;

beforeAll(async () => {
  server = await startTestServer({
    settings: {
      clock: () => now,
      rateLimits: { ...defaultRateLimits, directoryEmailPerSession: 3, directoryEmailPerIp: 5 },
    },
  });
  const as = (name: string, role: 'patient' | 'doctor') =>
    registerUser(server.baseUrl, { name, role });
  [
    patient,
    stranger,
    connectedDoctor,
    listedDoctor,
    unlistedDoctor,
    teamDoctor,
    teamMate,
    consentedDoctor,
    withdrawnDoctor,
  ] = await Promise.all([
    as('Zz Patient', 'patient'),
    as('Zz Stranger', 'patient'),
    as('Zz Connected', 'doctor'),
    as('Zz Listed', 'doctor'),
    as('Zz Unlisted', 'doctor'),
    as('Zz Team', 'doctor'),
    as('Zz Mate', 'doctor'),
    as('Zz Consented', 'doctor'),
    as('Zz Withdrawn', 'doctor'),
  ]);
  await giveConsent(patient, connectedDoctor);
  await createRecordAs(connectedDoctor, patient, [patient, connectedDoctor]);
  // A consent with no record shared yet connects them; a withdrawn one no longer does.
  await giveConsent(patient, consentedDoctor);
  await giveConsent(patient, withdrawnDoctor);
  expect((await putConsent(patient, withdrawnDoctor, { seq: 2, withdraw: true })).status).toBe(200);
  expect((await listedDoctor.api.put('/auth/me', { listed: true })).body).toMatchObject({
    listed: true,
  });
  const practice = await createPracticeAs(teamDoctor);
  const team = await createTeamAs(teamDoctor, practice);
  await addMember(team, teamDoctor, teamMate);
});
afterAll(() => server.close());

const namesFound = async (searcher: TestUser, prefix = 'zz') => {
  const res = await searcher.api.get<DirectoryResponse>(
    `/users?namePrefix=${encodeURIComponent(prefix)}`,
  );
  expect(res.status).toBe(200);
  return res.body.users.map((u) => u.name).sort();
};

describe('directory search by name: who finds whom (issue 15, finding 1)', () => {
  it.each([
    ['a patient', () => patient, ['Zz Connected', 'Zz Consented', 'Zz Listed']],
    ['a patient with no connections', () => stranger, ['Zz Listed']],
    ['a doctor with no connections', () => unlistedDoctor, ['Zz Listed']],
    ['a doctor who wrote for a patient', () => connectedDoctor, ['Zz Listed', 'Zz Patient']],
    [
      'a doctor a patient consented to (no record yet)',
      () => consentedDoctor,
      ['Zz Listed', 'Zz Patient'],
    ],
    ['a doctor whose consent was withdrawn', () => withdrawnDoctor, ['Zz Listed']],
    ['a doctor in a team', () => teamDoctor, ['Zz Listed', 'Zz Mate']],
    ['a doctor added to a team', () => teamMate, ['Zz Listed', 'Zz Team']],
  ])(
    'when %s searches every name by prefix, then only connected people and listed doctors are found',
    async (_who, searcher, expected) => {
      expect(await namesFound(searcher())).toEqual(expected);
    },
  );

  it('when a patient asks to be listed, then 403 only-doctors-listed; a doctor who unlists is no longer found', async () => {
    const res = await patient.api.put('/auth/me', { listed: true });
    expect(res.status).toBe(403);
    expect(codeOf(res)).toBe('only-doctors-listed');
    expect(await namesFound(stranger)).toEqual(['Zz Listed']);
    await listedDoctor.api.put('/auth/me', { listed: false });
    expect(await namesFound(stranger)).toEqual([]);
    await listedDoctor.api.put('/auth/me', { listed: true });
  });

  it('when someone looks up an exact email, then anyone is found, at most 3 times per session and 5 per address', async () => {
    now += 3600_000; // fresh windows
    const found = await stranger.api.get<DirectoryResponse>(
      `/users?email=${encodeURIComponent(patient.email)}`,
    );
    expect(found.body.users.map((u) => u.id)).toEqual([patient.id]);
    for (let i = 0; i < 2; i++)
      expect((await stranger.api.get(`/users?email=nobody${i}%40example.org`)).status).toBe(200);
    expect(codeOf(await stranger.api.get('/users?email=one-more%40example.org'))).toBe(
      'rate-limited',
    );
    // Another session from the same address has 2 left of the address's 5.
    for (let i = 0; i < 2; i++)
      expect((await unlistedDoctor.api.get(`/users?email=other${i}%40example.org`)).status).toBe(
        200,
      );
    expect(codeOf(await unlistedDoctor.api.get('/users?email=other-more%40example.org'))).toBe(
      'rate-limited',
    );
  });
});
