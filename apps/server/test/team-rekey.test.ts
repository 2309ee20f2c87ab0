// Re-keying after a leave (DESIGN §13, docs/care-teams.md "Re-keying"): a current team admin
// re-keys every record shared with the team, also those of patients who gave the team no consent
// to write, because a re-key cannot change content: its readers and teams are the base's (the
// request cannot name them), its message is a small signed statement plus packets, and each file
// gets the new key's packet instead of the retired one's. Everyone else is refused, nothing stored.
import {
  createRecipientPacket,
  readPublicKey,
  recipientKeyIdOf,
  sealFile,
  sealRekey,
  type RecordId,
  type UserId,
} from '@medseal/crypto';
import type { RecordDto, RecordListResponse } from '@medseal/contract';
import { codeOf } from './helpers/client';
import { createRecordAs, sealFor } from './helpers/records';
import {
  addMember,
  createPracticeAs,
  createTeamAs,
  currentKey,
  removeMember,
  shareWithTeam,
  type TestTeam,
} from './helpers/teams';
import { newRecordId, registerUser, type TestUser } from './helpers/users';
import { startTestServer, type TestServer } from './support';

let server: TestServer;
let admin: TestUser;
let member: TestUser;
let leaver: TestUser;
let patient: TestUser;
let team: TestTeam;
let record: RecordDto;
let withFile: RecordDto;
let fileId: string;
beforeAll(async () => {
  server = await startTestServer();
  const doctor = (name: string) => registerUser(server.baseUrl, { name, role: 'doctor' });
  [admin, member, leaver, patient] = await Promise.all([
    doctor('Dr Admin'),
    doctor('Dr Member'),
    doctor('Dr Leaver'),
    registerUser(server.baseUrl, { name: 'Pat', role: 'patient' }),
  ]);
  team = await createTeamAs(admin, await createPracticeAs(admin));
  await addMember(team, admin, member);
  await addMember(team, admin, leaver);
  // The patient shares with the team but gives it no consent to write for her.
  record = await createRecordAs(patient, patient, [patient]);
  await shareWithTeam(patient, team, record);
  withFile = await createRecordAs(patient, patient, [patient]);
  const file = await sealFile({
    data: new Uint8Array([1, 2, 3]),
    authorKey: patient.key.privateKey,
    recipientKeys: [patient.publicKey],
  });
  const up = await patient.api.request<{ id: string }>(
    'POST',
    `/records/${withFile.id}/attachments`,
    { raw: { data: file.message, contentType: 'application/octet-stream' } },
  );
  fileId = up.body.id;
  await shareWithTeam(patient, team, withFile);
  await removeMember(team, admin, leaver, [admin, member, leaver]);
});
afterAll(() => server.close());

const retiredKey = () => {
  const key = team.teamKeys[team.teamKeys.length - 2];
  if (!key) throw new Error('no retired key');
  return key;
};

/** A re-key of the stored current version, as the admin's browser makes it, signed by `signer`. */
async function rekeyBody(
  signer: TestUser,
  keys: string[] = [patient.publicKey, currentKey(team).publicKey],
  of: RecordDto = record,
  openWith = retiredKey().privateKey,
) {
  const stored = (await admin.api.get<RecordDto>(`/records/${of.id}`)).body;
  const { message } = await sealRekey({
    rekey: {
      recordId: stored.id as RecordId,
      version: stored.version + 1,
      ownerId: patient.id as UserId,
      teamId: team.id,
      genesis: team.state.genesis,
    },
    base: { message: stored.message, myKey: openWith },
    signerKey: signer.key.privateKey,
    recipientKeys: keys,
  });
  return { baseVersion: stored.version, teamId: team.id, message };
}

const stored = (id = record.id) =>
  server.connection
    .collection<{ _id: string; version: number; authorId: string; readerIds: string[] }>('records')
    .findOne({ _id: id });

describe('a re-key after a leave (patient without consent to the team)', () => {
  it('when someone other than a current team admin re-keys, then it is refused and nothing is stored', async () => {
    const before = await stored();
    for (const [who, status, code] of [
      [member, 403, 'not-team-admin'],
      [patient, 403, 'not-team-admin'],
      [leaver, 404, 'record-not-found'],
    ] as const) {
      const res = await who.api.post(`/records/${record.id}/rekey`, await rekeyBody(who));
      expect([who.name, res.status, codeOf(res)]).toEqual([who.name, status, code]);
    }
    expect(await stored()).toEqual(before);
  });

  it('when the admin’s re-key names readers, carries content or is sealed to other keys, then 400 and nothing is stored', async () => {
    const before = await stored();
    const good = await rekeyBody(admin);
    const named = await admin.api.post(`/records/${record.id}/rekey`, {
      ...good,
      recipients: [{ userId: admin.id, fingerprint: admin.fingerprint }],
    });
    expect(named.status).toBe(400);
    // New content, however signed, is a record version, far larger than a statement.
    const content = await sealFor({
      recordId: record.id,
      version: 2,
      owner: patient,
      author: admin,
      readers: [patient],
      teamKeys: [currentKey(team).publicKey],
      content: { title: 'Allergy', body: 'x'.repeat(40_000) },
    });
    const carried = await admin.api.post(`/records/${record.id}/rekey`, {
      ...good,
      message: content,
    });
    expect([carried.status, codeOf(carried)]).toEqual([400, 'rekey-carries-content']);
    const toMe = await admin.api.post(
      `/records/${record.id}/rekey`,
      await rekeyBody(admin, [patient.publicKey, currentKey(team).publicKey, admin.publicKey]),
    );
    expect([toMe.status, codeOf(toMe)]).toEqual([400, 'recipient-mismatch']);
    const toRetired = await admin.api.post(
      `/records/${record.id}/rekey`,
      await rekeyBody(admin, [patient.publicKey, retiredKey().publicKey]),
    );
    expect([toRetired.status, codeOf(toRetired)]).toEqual([400, 'recipient-mismatch']);
    const stale = await admin.api.post(`/records/${record.id}/rekey`, { ...good, baseVersion: 2 });
    expect([stale.status, codeOf(stale)]).toEqual([409, 'version-conflict']);
    expect(await stored()).toEqual(before);
  });

  it('when a current admin re-keys, then version 2 keeps the author and readers, names her as re-keyer, moves the team to its current key, and a second re-key is 409', async () => {
    const res = await admin.api.post<RecordDto>(
      `/records/${record.id}/rekey`,
      await rekeyBody(admin),
    );
    expect(res.status).toBe(200);
    expect(res.body).toMatchObject({
      version: 2,
      authorId: patient.id,
      rekeyedBy: admin.id,
      recipients: [{ userId: patient.id, fingerprint: patient.fingerprint }],
    });
    expect(res.body.teams).toEqual([
      {
        teamId: team.id,
        fingerprint: currentKey(team).ref.fingerprint,
        gen: team.state.keys.length,
      },
    ]);
    expect((await stored())?.readerIds).toEqual([patient.id]);
    const version = await member.api.get<{ rekeyedBy?: string; authorId: string }>(
      `/records/${record.id}/versions/2`,
    );
    expect(version.body).toMatchObject({ authorId: patient.id, rekeyedBy: admin.id });
    expect(codeOf(await leaver.api.get(`/records/${record.id}`))).toBe('record-not-found');
    const again = await admin.api.post(
      `/records/${record.id}/rekey`,
      await rekeyBody(admin, undefined, record, currentKey(team).privateKey),
    );
    expect([again.status, codeOf(again)]).toEqual([409, 'already-rekeyed']);
  });
});

describe('a re-key of a record with a file', () => {
  it('when the new key’s packet for the file is missing, then 400 and nothing stored; with it, the file’s packet for the retired key is replaced by it', async () => {
    const body = async () => {
      const base = await rekeyBody(admin, undefined, withFile);
      const current = (await admin.api.get<RecordDto>(`/records/${withFile.id}`)).body;
      const pkesk = await createRecipientPacket({
        message: current.message,
        myKey: retiredKey().privateKey,
        newRecipientKey: currentKey(team).publicKey,
      });
      return { ...base, pkesk };
    };
    const { pkesk, ...without } = await body();
    const missing = await admin.api.post(`/records/${withFile.id}/rekey`, without);
    expect([missing.status, codeOf(missing)]).toEqual([400, 'rekey-attachments-mismatch']);
    const other = await admin.api.post(`/records/${withFile.id}/rekey`, {
      ...without,
      attachmentPackets: { [fileId]: pkesk, [newRecordId()]: pkesk },
    });
    expect([other.status, codeOf(other)]).toEqual([400, 'rekey-attachments-mismatch']);
    const wrongKey = await createRecipientPacket({
      message: (await admin.api.get<RecordDto>(`/records/${withFile.id}`)).body.message,
      myKey: retiredKey().privateKey,
      newRecipientKey: admin.publicKey,
    });
    const toAdmin = await admin.api.post(`/records/${withFile.id}/rekey`, {
      ...without,
      attachmentPackets: { [fileId]: wrongKey },
    });
    expect([toAdmin.status, codeOf(toAdmin)]).toEqual([400, 'recipient-mismatch']);
    const packets = async () =>
      (
        await server.connection
          .collection<{ _id: string; packets?: string[] }>('attachments')
          .findOne({ _id: fileId })
      )?.packets ?? [];
    const ids = async (key: string) => (await readPublicKey(key)).encryptionKeyIds;
    expect(await stored(withFile.id)).toMatchObject({ version: 1 });
    const res = await admin.api.post<RecordDto>(`/records/${withFile.id}/rekey`, {
      ...without,
      attachmentPackets: { [fileId]: pkesk },
    });
    expect(res.status).toBe(200);
    const after = (await packets()).map((p) => recipientKeyIdOf(p));
    expect(after).toEqual(expect.arrayContaining(await ids(currentKey(team).publicKey)));
    for (const id of await ids(retiredKey().publicKey)) expect(after).not.toContain(id);
    expect(after).toEqual(expect.arrayContaining(await ids(patient.publicKey)));
  });
});

describe('the team’s list while its records are re-keyed', () => {
  it('when the team’s records are re-keyed while its list is read page by page, then no listing names a record twice, and the last one names each once', async () => {
    const ids: string[] = [];
    for (let i = 0; i < 12; i++) {
      const r = await createRecordAs(patient, patient, [patient]);
      await shareWithTeam(patient, team, r);
      ids.push(r.id);
    }
    await removeMember(team, admin, member, [admin, member]);
    const listAll = async () => {
      const listed: string[] = [];
      let before: string | undefined;
      for (let page = 0; page < 100; page++) {
        const res = await admin.api.get<RecordListResponse>(
          `/teams/${team.id}/records?limit=3${before ? `&before=${before}` : ''}`,
        );
        expect(res.status).toBe(200);
        listed.push(...res.body.records.map((r) => r.id));
        if (!res.body.nextCursor) return listed;
        before = res.body.nextCursor;
      }
      throw new Error('the list did not end');
    };
    const twice = (list: string[]) => list.filter((id, i) => list.indexOf(id) !== i);
    let rekeying = true;
    const reader = (async () => {
      const seen: string[][] = [];
      while (rekeying) seen.push(twice(await listAll()));
      return seen;
    })();
    // Three at a time, as the admin's browser does.
    const queue = [...ids];
    const rekeyNext = async () => {
      for (let id = queue.shift(); id !== undefined; id = queue.shift()) {
        const r = (await admin.api.get<RecordDto>(`/records/${id}`)).body;
        const res = await admin.api.post(
          `/records/${id}/rekey`,
          await rekeyBody(admin, undefined, r),
        );
        expect(res.status).toBe(200);
      }
    };
    await Promise.all([rekeyNext(), rekeyNext(), rekeyNext()]);
    rekeying = false;
    expect((await reader).flat()).toEqual([]);
    const last = await listAll();
    expect(twice(last)).toEqual([]);
    expect(ids.every((id) => last.includes(id))).toBe(true);
  });
});
