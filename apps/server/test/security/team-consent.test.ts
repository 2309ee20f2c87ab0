// Consent to a care team (DESIGN §13, docs/care-teams.md, issues 10 and 13): a patient lets a
// whole team write for her with one statement naming the team's id, genesis and root admin key.
// The server checks it with her registered key against the team's settled statements before
// storing it, and lets a writer through it only while he is a current member (decided per
// request, failing closed). A bad statement is a 4xx with a code and stores nothing.
import { consentListResponseSchema, consentSchema, type RecordDto } from '@medseal/contract';
import { codeOf } from '../helpers/client';
import { consentBody, giveTeamConsent, putTeamConsent, teamConsentBody } from '../helpers/consents';
import { recipientsOf, sealFor } from '../helpers/records';
import {
  addMember,
  createPracticeAs,
  createTeamAs,
  currentKey,
  removeMember,
  type TestTeam,
} from '../helpers/teams';
import { newRecordId, registerUser, type TestUser } from '../helpers/users';
import { startTestServer, type TestServer } from '../support';

let server: TestServer;
let patient: TestUser;
let otherPatient: TestUser;
let admin: TestUser;
let member: TestUser;
let leaver: TestUser;
let outsider: TestUser;
let team: TestTeam;
let otherTeam: TestTeam;
beforeAll(async () => {
  server = await startTestServer();
  const doctor = (name: string) => registerUser(server.baseUrl, { name, role: 'doctor' });
  [patient, otherPatient, admin, member, leaver, outsider] = await Promise.all([
    registerUser(server.baseUrl, { name: 'Tess Patient', role: 'patient' }),
    registerUser(server.baseUrl, { name: 'Una Patient', role: 'patient' }),
    doctor('Dr Admin'),
    doctor('Dr Member'),
    doctor('Dr Leaver'),
    doctor('Dr Outsider'),
  ]);
  team = await createTeamAs(admin, await createPracticeAs(admin));
  await addMember(team, admin, member);
  await addMember(team, admin, leaver);
  otherTeam = await createTeamAs(outsider, await createPracticeAs(outsider, 'Elsewhere'));
});
afterAll(() => server.close());

const storedConsents = async (who: TestUser) =>
  consentListResponseSchema.parse((await who.api.get(`/patients/${who.id}/consents`)).body)
    .consents;

/** A note `author` writes for `owner` through `through` (encrypted to the owner and the team key). */
async function noteThroughTeam(author: TestUser, owner: TestUser, through: TestTeam = team) {
  const recordId = newRecordId();
  return {
    recordId,
    ownerId: owner.id,
    recipients: recipientsOf(owner),
    teams: [{ teamId: through.id, fingerprint: currentKey(through).ref.fingerprint }],
    message: await sealFor({
      recordId,
      version: 1,
      owner,
      author,
      readers: [owner],
      teamKeys: [currentKey(through).publicKey],
    }),
  };
}

const writeAs = async (author: TestUser, owner: TestUser = patient) =>
  author.api.post<RecordDto>('/records', await noteThroughTeam(author, owner));

describe('storing a consent to a team: only the patient, only a good statement', () => {
  const teamPath = () => `/patients/${patient.id}/team-consents/${team.id}`;
  it.each([
    [
      'signed by another key than hers',
      async () => putTeamConsent(patient, team, { signer: outsider }),
      400,
      'bad-signature',
    ],
    [
      'naming another root admin key than the team’s',
      async () => putTeamConsent(patient, team, { fingerprint: member.fingerprint }),
      400,
      'fingerprint-mismatch',
    ],
    [
      'naming a look-alike team (same id, another creation)',
      async () => putTeamConsent(patient, team, { genesis: otherTeam.state.genesis }),
      400,
      'consent-wrong-subject',
    ],
    [
      'for another team than the one in the path',
      async () => patient.api.put(teamPath(), await teamConsentBody(patient, otherTeam)),
      400,
      'consent-wrong-subject',
    ],
    [
      'a consent to a person sent as one to the team',
      async () => patient.api.put(teamPath(), await consentBody(patient, admin)),
      400,
      'consent-wrong-subject',
    ],
    [
      'signed by her for another patient’s id',
      async () =>
        patient.api.put(
          teamPath(),
          await teamConsentBody({ ...patient, id: otherPatient.id }, team),
        ),
      400,
      'consent-wrong-patient',
    ],
    [
      'stored under another patient’s id',
      async () =>
        patient.api.put(
          `/patients/${otherPatient.id}/team-consents/${team.id}`,
          await teamConsentBody(patient, team),
        ),
      403,
      'forbidden',
    ],
    [
      'made by a doctor for himself',
      async () =>
        member.api.put(
          `/patients/${member.id}/team-consents/${team.id}`,
          await teamConsentBody(member, team),
        ),
      403,
      'forbidden',
    ],
    [
      'for a team that does not exist',
      async () =>
        patient.api.put(
          `/patients/${patient.id}/team-consents/${newRecordId()}`,
          await teamConsentBody(patient, team),
        ),
      404,
      'team-not-found',
    ],
    [
      'not a signed statement at all',
      async () => patient.api.put(teamPath(), { signedConsent: 'hello' }),
      400,
      'bad-signature',
    ],
  ])(
    'when a statement is %s, then it is refused with its code, nothing is stored, and members still may not write',
    async (_what, send, status, code) => {
      const res = await send();
      expect({ status: res.status, code: codeOf(res) }).toEqual({ status, code });
      expect(await storedConsents(patient)).toEqual([]);
      const write = await writeAs(member);
      expect({ status: write.status, code: codeOf(write) }).toEqual({
        status: 403,
        code: 'no-consent',
      });
    },
  );

  it('when she signs it for the team as its statements name it, then it is stored with the genesis, and a member (not an outsider) reads it', async () => {
    const res = await putTeamConsent(patient, team);
    expect(res.status).toBe(200);
    expect(consentSchema.parse(res.body)).toMatchObject({
      subjectKind: 'team',
      subjectId: team.id,
      fingerprint: admin.fingerprint,
      genesis: team.state.genesis,
      seq: 1,
    });
    const asMember = await member.api.get(`/patients/${patient.id}/consents`);
    expect(
      consentListResponseSchema
        .parse(asMember.body)
        .consents.map((c) => [c.subjectKind, c.subjectId]),
    ).toEqual([['team', team.id]]);
    expect(codeOf(await outsider.api.get(`/patients/${patient.id}/consents`))).toBe(
      'consent-not-found',
    );
    // Replaying the same statement is not newer than the stored one.
    const again = await patient.api.put(
      `/patients/${patient.id}/team-consents/${team.id}`,
      await teamConsentBody(patient, team),
    );
    expect({ status: again.status, code: codeOf(again) }).toEqual({
      status: 409,
      code: 'consent-replayed',
    });
  });
});

describe('writing for the patient through a consented team', () => {
  it('when a current member writes through the team, then 201; not through it (in person), or through another team, then 403', async () => {
    expect((await writeAs(member)).status).toBe(201);
    const inPerson = await member.api.post('/records', {
      ...(await noteThroughTeam(member, patient)),
      teams: [],
      recipients: recipientsOf(patient, member),
      message: await sealFor({
        recordId: newRecordId(),
        version: 1,
        owner: patient,
        author: member,
        readers: [patient, member],
      }),
    });
    expect(codeOf(inPerson)).toBe('no-consent');
    const viaOther = await outsider.api.post(
      '/records',
      await noteThroughTeam(outsider, patient, otherTeam),
    );
    expect(codeOf(viaOther)).toBe('no-consent');
    // Her consent covers this patient only.
    expect(codeOf(await writeAs(member, otherPatient))).toBe('no-consent');
  });

  it('when a member is removed, then the very next write through the team is refused', async () => {
    expect((await writeAs(leaver)).status).toBe(201);
    await removeMember(team, admin, leaver, [admin, member, leaver]);
    const res = await writeAs(leaver);
    expect(res.status).toBe(403);
  });

  it('when she withdraws the consent, then members can neither write nor edit the team’s note; a new consent restores it', async () => {
    const note = await writeAs(member);
    expect(note.status).toBe(201);
    expect((await putTeamConsent(patient, team, { seq: 2, withdraw: true })).status).toBe(200);
    const edit = async () =>
      member.api.put(`/records/${note.body.id}`, {
        baseVersion: 1,
        recipients: recipientsOf(patient),
        teams: [{ teamId: team.id, fingerprint: currentKey(team).ref.fingerprint }],
        message: await sealFor({
          recordId: note.body.id,
          version: 2,
          owner: patient,
          author: member,
          readers: [patient],
          teamKeys: [currentKey(team).publicKey],
        }),
      });
    for (const attempt of [() => writeAs(member), edit]) {
      const res = await attempt();
      expect({ status: res.status, code: codeOf(res) }).toEqual({
        status: 403,
        code: 'no-consent',
      });
    }
    // Members still read it; the withdrawn consent is no longer listed for them.
    expect((await member.api.get(`/records/${note.body.id}`)).status).toBe(200);
    expect(codeOf(await member.api.get(`/patients/${patient.id}/consents`))).toBe(
      'consent-not-found',
    );
    await giveTeamConsent(patient, team, 3);
    expect((await edit()).status).toBe(200);
  });
});
