// Records shared with a care team (DESIGN §13, docs/care-teams.md): one team grant + one PKESK
// for the team's current key; every current member reads (by the team's statements, at once),
// a removed member gets 404 at once; a member writes for her team; the admin re-keys after a
// leave; bad input is refused with a stable code and nothing is stored.
import { generateTeamKey } from '@medseal/crypto';
import { MAX_RECORD_TEAMS } from '@medseal/contract';
import type {
  AccessListResponse,
  AuditTrailResponse,
  RecordDto,
  RecordListResponse,
} from '@medseal/contract';
import { codeOf } from './helpers/client';
import { hookedInto, storedOf } from './helpers/hooks';
import { createRecordAs, recipientsOf, sealFor } from './helpers/records';
import {
  addMember,
  createPracticeAs,
  createTeamAs,
  currentKey,
  removeMember,
  shareWithTeam,
  teamGrantBody,
  type TestTeam,
} from './helpers/teams';
import { newRecordId, registerUser, type TestUser } from './helpers/users';
import { startTestServer, type TestServer } from './support';
import { giveTeamConsent } from './helpers/consents';
import { grantTeamAccess } from '../src/components/sharing/use-cases';
import { createLogger } from '../src/lib/logger';
import { createServices } from '../src/services';

let server: TestServer;
let admin: TestUser;
let drA: TestUser;
let drB: TestUser;
let drC: TestUser;
let elsewhere: TestUser;
let patient: TestUser;
let team: TestTeam;
let otherTeam: TestTeam;
beforeAll(async () => {
  server = await startTestServer();
  const doctor = (name: string) => registerUser(server.baseUrl, { name, role: 'doctor' });
  [admin, drA, drB, drC, elsewhere, patient] = await Promise.all([
    doctor('Dr Admin'),
    doctor('Dr Alice'),
    doctor('Dr Bob'),
    doctor('Dr Carol'),
    doctor('Dr Elsewhere'),
    registerUser(server.baseUrl, { name: 'Pat', role: 'patient' }),
  ]);
  team = await createTeamAs(admin, await createPracticeAs(admin));
  await addMember(team, admin, drA);
  await addMember(team, admin, drB);
  otherTeam = await createTeamAs(elsewhere, await createPracticeAs(elsewhere, 'Elsewhere'));
});
afterAll(() => server.close());

const members = () => [admin, drA, drB, drC];

async function patientRecordSharedWithTeam(): Promise<RecordDto> {
  const record = await createRecordAs(patient, patient, [patient]);
  await shareWithTeam(patient, team, record);
  return record;
}

interface StoredRecord {
  rev: number;
  version: number;
  message: string;
  readerIds: string[];
  teams?: unknown[];
}
function storedRecord(id: string) {
  return server.connection
    .collection<{ _id: string } & StoredRecord>('records')
    .findOne({ _id: id });
}

describe('sharing a record with a care team', () => {
  it('when the patient shares with the team, then every current member reads it, lists it under the team, and others get 404', async () => {
    const record = await patientRecordSharedWithTeam();
    for (const member of [admin, drA, drB]) {
      const res = await member.api.get<RecordDto>(`/records/${record.id}`);
      expect(res.status).toBe(200);
      expect(res.body.teams).toEqual([
        {
          teamId: team.id,
          fingerprint: currentKey(team).ref.fingerprint,
          gen: team.state.keys.length,
        },
      ]);
      const list = await member.api.get<RecordListResponse>(`/teams/${team.id}/records`);
      expect(list.status).toBe(200);
      expect(list.body.records.map((r) => r.id)).toContain(record.id);
    }
    for (const stranger of [elsewhere, drC]) {
      expect(codeOf(await stranger.api.get(`/records/${record.id}`))).toBe('record-not-found');
      expect(codeOf(await stranger.api.get(`/teams/${team.id}/records`))).toBe('team-not-found');
    }
    const access = await patient.api.get<AccessListResponse>(`/records/${record.id}/access`);
    expect(access.body.teams).toEqual([
      expect.objectContaining({
        teamId: team.id,
        name: 'Cardiology',
        practiceName: "St Mary's",
        grantedBy: patient.id,
      }),
    ]);
  });

  it("when a member reads, then the owner's audit trail names that member, not the team", async () => {
    const record = await patientRecordSharedWithTeam();
    await drB.api.get(`/records/${record.id}`);
    const trail = await patient.api.get<AuditTrailResponse>(`/audit/records/${record.id}`);
    expect(trail.body.events.map((e) => [e.actorId, e.action])).toEqual(
      expect.arrayContaining([
        [patient.id, 'share'],
        [drB.id, 'read'],
      ]),
    );
  });

  it('when a doctor joins the team, then she reads every record shared with it at once, with none re-encrypted', async () => {
    const record = await patientRecordSharedWithTeam();
    const before = await storedRecord(record.id);
    expect(codeOf(await drC.api.get(`/records/${record.id}`))).toBe('record-not-found');
    await addMember(team, admin, drC);
    expect((await drC.api.get(`/records/${record.id}`)).status).toBe(200);
    expect((await storedRecord(record.id))?.message).toBe(before?.message);
  });

  it('when a member is removed, then she gets 404 at once, and the admin re-keys the current version to the new team key', async () => {
    const record = await patientRecordSharedWithTeam();
    expect((await drB.api.get(`/records/${record.id}`)).status).toBe(200);
    await removeMember(team, admin, drB, members());
    expect(codeOf(await drB.api.get(`/records/${record.id}`))).toBe('record-not-found');
    expect(codeOf(await drB.api.get(`/records/${record.id}/versions`))).toBe('record-not-found');
    expect(codeOf(await drB.api.get(`/teams/${team.id}/records`))).toBe('team-not-found');
    // The stored version is still for the retired key: the re-key writes version 2 to the new one.
    const stale = (await admin.api.get<RecordDto>(`/records/${record.id}`)).body;
    expect(stale.teams[0]?.gen).toBeLessThan(team.state.keys.length);
    const retired = team.teamKeys[team.teamKeys.length - 2];
    if (!retired) throw new Error('no retired key');
    const sealedTo = (teamKey: string) =>
      sealFor({
        recordId: record.id,
        version: 2,
        owner: patient,
        author: admin,
        readers: [patient],
        teamKeys: [teamKey],
      });
    const rekey = async () =>
      admin.api.put<RecordDto>(`/records/${record.id}`, {
        baseVersion: 1,
        recipients: recipientsOf(patient),
        teams: [{ teamId: team.id, fingerprint: currentKey(team).ref.fingerprint }],
        message: await sealedTo(currentKey(team).publicKey),
      });
    // A re-key is a version the admin signs: a member writes only under the patient's consent to the team.
    const without = await rekey();
    expect([without.status, codeOf(without)]).toEqual([403, 'no-consent']);
    await giveTeamConsent(patient, team);
    const oldKeyUpdate = await admin.api.put(`/records/${record.id}`, {
      baseVersion: 1,
      recipients: recipientsOf(patient),
      teams: [{ teamId: team.id, fingerprint: retired.ref.fingerprint }],
      message: await sealedTo(retired.publicKey),
    });
    expect([oldKeyUpdate.status, codeOf(oldKeyUpdate)]).toEqual([400, 'team-key-not-current']);
    const rekeyed = await rekey();
    expect(rekeyed.status).toBe(200);
    expect(rekeyed.body.teams).toEqual([
      {
        teamId: team.id,
        fingerprint: currentKey(team).ref.fingerprint,
        gen: team.state.keys.length,
      },
    ]);
    // The admin wrote it as a member: she did not become a reader in her own right.
    expect((await storedRecord(record.id))?.readerIds).toEqual([patient.id]);
    expect(codeOf(await drB.api.get(`/records/${record.id}`))).toBe('record-not-found');
    await addMember(team, admin, drB);
  });

  it('when a member writes a note for the patient to her team, then the team reads it and she needs no key of her own on it', async () => {
    const recordId = newRecordId();
    const body = {
      recordId,
      ownerId: patient.id,
      recipients: recipientsOf(patient),
      teams: [{ teamId: team.id, fingerprint: currentKey(team).ref.fingerprint }],
      message: await sealFor({
        recordId,
        version: 1,
        owner: patient,
        author: drA,
        readers: [patient],
        teamKeys: [currentKey(team).publicKey],
      }),
    };
    const outsiderTry = await elsewhere.api.post('/records', {
      ...body,
      message: await sealFor({
        recordId,
        version: 1,
        owner: patient,
        author: elsewhere,
        readers: [patient],
        teamKeys: [currentKey(team).publicKey],
      }),
    });
    expect([outsiderTry.status, codeOf(outsiderTry)]).toEqual([403, 'not-team-member']);
    // A member writes for the patient only under her consent to the team (DESIGN §13), stored above.
    const res = await drA.api.post<RecordDto>('/records', body);
    expect(res.status).toBe(201);
    for (const reader of [patient, admin, drB, drA])
      expect([reader.name, (await reader.api.get(`/records/${recordId}`)).status]).toEqual([
        reader.name,
        200,
      ]);
    expect(codeOf(await elsewhere.api.get(`/records/${recordId}`))).toBe('record-not-found');
  });
});

describe('a member edits a record shared with her team', () => {
  it('when she names herself as a reader or leaves the team out, then 403 member-changes-readers and nothing is stored; with the same readers and teams, then the team still reads it and she is no reader in her own right', async () => {
    const record = await patientRecordSharedWithTeam();
    const teamNow = [{ teamId: team.id, fingerprint: currentKey(team).ref.fingerprint }];
    const edit = async (readers: TestUser[], teams: typeof teamNow) =>
      drA.api.put<RecordDto>(`/records/${record.id}`, {
        baseVersion: 1,
        recipients: recipientsOf(...readers),
        teams,
        message: await sealFor({
          recordId: record.id,
          version: 2,
          owner: patient,
          author: drA,
          readers,
          teamKeys: teams.length > 0 ? [currentKey(team).publicKey] : [],
        }),
      });
    for (const [readers, teams] of [
      [[patient, drA], teamNow],
      [[patient], []],
    ] as const) {
      const res = await edit([...readers], [...teams]);
      expect([res.status, codeOf(res)]).toEqual([403, 'member-changes-readers']);
    }
    expect((await storedRecord(record.id))?.version).toBe(1);
    expect((await drB.api.get(`/records/${record.id}`)).status).toBe(200);

    const res = await edit([patient], teamNow);
    expect(res.status).toBe(200);
    expect(res.body.teams).toEqual([{ ...teamNow[0], gen: team.state.keys.length }]);
    expect((await storedRecord(record.id))?.readerIds).toEqual([patient.id]);
    expect((await drB.api.get(`/records/${record.id}`)).status).toBe(200);
  });
});

describe('bad team shares are refused with a stable code and nothing is stored', () => {
  async function expectRefused(
    record: RecordDto,
    sharer: TestUser,
    body: unknown,
    status: number,
    code: string,
  ) {
    const before = await storedRecord(record.id);
    const res = await sharer.api.post(`/records/${record.id}/teams`, body);
    expect([res.status, codeOf(res)]).toEqual([status, code]);
    const after = await storedRecord(record.id);
    expect(after?.rev).toBe(before?.rev);
    expect(after?.message).toBe(before?.message);
    expect(after?.teams ?? []).toEqual(before?.teams ?? []);
  }

  it('when the PKESK is for a key that is not the team’s current key, then 400 team-key-not-current', async () => {
    const record = await createRecordAs(patient, patient, [patient]);
    const retired = team.teamKeys[0];
    if (!retired || team.teamKeys.length < 2) throw new Error('the team was rotated above');
    await expectRefused(
      record,
      patient,
      await teamGrantBody(patient, team, record, { teamKey: retired }),
      400,
      'team-key-not-current',
    );
    await expectRefused(
      record,
      patient,
      await teamGrantBody(patient, team, record, { teamKey: await generateTeamKey() }),
      400,
      'team-key-not-current',
    );
  });

  it('when the grant names another team’s creation, another record or is signed by someone else, then 400', async () => {
    const record = await createRecordAs(patient, patient, [patient]);
    const other = await createRecordAs(patient, patient, [patient]);
    await expectRefused(
      record,
      patient,
      await teamGrantBody(patient, team, record, { genesis: otherTeam.state.genesis }),
      400,
      'bad-grant',
    );
    await expectRefused(
      record,
      patient,
      {
        ...(await teamGrantBody(patient, team, record)),
        signedGrant: (await teamGrantBody(patient, team, other)).signedGrant,
      },
      400,
      'bad-grant',
    );
    await expectRefused(
      record,
      patient,
      await teamGrantBody(patient, team, record, { signedBy: drA }),
      400,
      'bad-signature',
    );
    await expectRefused(
      record,
      patient,
      { ...(await teamGrantBody(patient, team, record)), teamId: otherTeam.id },
      400,
      'bad-grant',
    );
  });

  it('when the team does not exist, the record is already shared with it, or a member tries to share it on, then 404 / 409 / 403', async () => {
    const record = await patientRecordSharedWithTeam();
    await expectRefused(
      record,
      patient,
      { ...(await teamGrantBody(patient, team, record)), teamId: newRecordId() },
      404,
      'team-not-found',
    );
    await expectRefused(
      record,
      patient,
      await teamGrantBody(patient, team, record),
      409,
      'already-recipient',
    );
    await expectRefused(
      record,
      drA,
      await teamGrantBody(patient, otherTeam, record, { signedBy: drA }),
      403,
      'forbidden',
    );
  });

  it('when two shares with one team race (a double click, a retry after a 503), then the one that re-reads after the other landed is 409 and the record names the team once', async () => {
    const record = await createRecordAs(patient, patient, [patient]);
    const services = createServices(server.connection, createLogger('silent'), {
      ...server.settings,
      readCacheTtlMs: 0,
    });
    // The second request read the record before the first one's share landed.
    const readBefore = await services.models.records.findById(record.id).lean();
    await shareWithTeam(patient, team, record);
    if (!readBefore) throw new Error('record not stored');
    const second = grantTeamAccess(
      services,
      readBefore,
      patient.id,
      await teamGrantBody(patient, team, record),
    );
    await expect(second).rejects.toMatchObject({ status: 409, code: 'already-recipient' });
    expect((await storedRecord(record.id))?.teams).toHaveLength(1);
  });

  it('when an update names a team the record is not shared with, or a stale key, then 400 and no version is written', async () => {
    const record = await createRecordAs(patient, patient, [patient]);
    const res = await patient.api.put(`/records/${record.id}`, {
      baseVersion: 1,
      recipients: recipientsOf(patient),
      teams: [{ teamId: otherTeam.id, fingerprint: currentKey(otherTeam).ref.fingerprint }],
      message: await sealFor({
        recordId: record.id,
        version: 2,
        owner: patient,
        author: patient,
        readers: [patient],
        teamKeys: [currentKey(otherTeam).publicKey],
      }),
    });
    expect([res.status, codeOf(res)]).toEqual([400, 'team-not-granted']);
    expect((await storedRecord(record.id))?.version).toBe(1);
  });

  it('when the owner stops sharing with the team, then its members get 404 at once and its grant is deleted', async () => {
    const record = await patientRecordSharedWithTeam();
    expect((await drA.api.delete(`/records/${record.id}/teams/${team.id}`)).status).toBe(403);
    const grants = server.connection.collection<{ _id: string }>('team_grants');
    expect(await grants.findOne({ _id: `${record.id}:${team.id}` })).not.toBeNull();
    expect((await patient.api.delete(`/records/${record.id}/teams/${team.id}`)).status).toBe(204);
    expect(await grants.findOne({ _id: `${record.id}:${team.id}` })).toBeNull();
    expect(codeOf(await drA.api.get(`/records/${record.id}`))).toBe('record-not-found');
    expect(codeOf(await patient.api.delete(`/records/${record.id}/teams/${team.id}`))).toBe(
      'not-a-recipient',
    );
  });

  it('when a record is already shared with as many teams as a version may name, then a team share is 400 too-many-teams and nothing is stored', async () => {
    const record = await createRecordAs(patient, patient, [patient]);
    const full = Array.from({ length: MAX_RECORD_TEAMS }, (_, i) => ({
      teamId: `team-${i}`,
      fingerprint: 'A'.repeat(40),
      gen: 1,
    }));
    await server.connection
      .collection<{ _id: string }>('records')
      .updateOne({ _id: record.id }, { $set: { teams: full } });
    const before = await storedRecord(record.id);
    const res = await patient.api.post(
      `/records/${record.id}/teams`,
      await teamGrantBody(patient, team, record),
    );
    expect({ status: res.status, code: codeOf(res) }).toEqual({
      status: 400,
      code: 'too-many-teams',
    });
    expect(await storedRecord(record.id)).toEqual(before);
    expect(
      await server.connection
        .collection<{ _id: string }>('team_grants')
        .findOne({ _id: `${record.id}:${team.id}` }),
    ).toBeNull();
  });

  // Like a person's share (sharing.test.ts): the team grant is written under the record's claim
  // before the splice, and a permanent delete run between the two does not find it.
  it('when the owner deletes the record while a team share of it is being stored, then the share answers 404 and no team grant of the record is left', async () => {
    const record = await createRecordAs(patient, patient, [patient]);
    const body = await teamGrantBody(patient, team, record);
    const { answer, ran } = await hookedInto(
      server.connection,
      { model: 'TeamGrant', method: 'replaceOne', at: 'after' },
      async () => (await patient.api.delete(`/records/${record.id}`)).status,
      () => patient.api.post(`/records/${record.id}/teams`, body),
    );
    expect(ran).toBe(204);
    expect({ status: answer.status, code: codeOf(answer) }).toEqual({
      status: 404,
      code: 'record-not-found',
    });
    expect(await storedOf(server.connection, record.id, ['team_grants'])).toEqual({
      team_grants: 0,
    });
  });
});
