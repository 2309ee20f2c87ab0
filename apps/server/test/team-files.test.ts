// Files of records shared with a care team (DESIGN §13; docs/care-teams.md "Sharing with a team",
// Files, and "The order of a re-key's writes"). A file added to such a record is sealed to its
// readers and to each team at the team's current key, never at a retired one. A re-key's writes
// for files come in an order that no failure between two of them (a database fault, a lost race)
// can hurt: the new key's packets, then the version (the commit), then the retired keys' packets
// off. Judged by what each reader opens: a member with her own copy of the team key (unwrapped
// from her envelope) at the generation the stored version names, as the web app opens a file.
import { freshTestDatabaseUri } from '@medseal/devdb/test-database';
import {
  createRecipientPacket,
  openFile,
  readPublicKey,
  recipientKeyIdOf,
  sealFile,
  sealRekey,
  unwrapTeamKey,
  type RecordId,
  type UnlockedKey,
  type UserId,
} from '@medseal/crypto';
import type { KeyEnvelopeResponse, RecordDto } from '@medseal/contract';
import { codeOf } from './helpers/client';
import { giveTeamConsent } from './helpers/consents';
import { startDbProxy, type DbProxy } from './helpers/db-proxy';
import { createRecordAs, grantBody, recipientsOf, sealFor } from './helpers/records';
import {
  addMember,
  createPracticeAs,
  createTeamAs,
  currentKey,
  removeMember,
  rotateTeam,
  shareWithTeam,
  teamGrantBody,
  type TestTeam,
} from './helpers/teams';
import { registerUser, type TestUser } from './helpers/users';
import { startTestServer, type TestServer } from './support';

let proxy: DbProxy;
let server: TestServer;
let admin: TestUser;
let member: TestUser;
let leaver: TestUser;
let newcomer: TestUser;
let reader: TestUser;
let patient: TestUser;
let team: TestTeam;
/** A second team the record of the last test is shared with too, rotated in that test. */
let team2: TestTeam;
/** Records with a file, shared with the team before the leave: one per failure a re-key meets. */
const withFiles: { record: RecordDto; fileId: string }[] = [];

beforeAll(async () => {
  proxy = await startDbProxy(freshTestDatabaseUri('teamfiles'));
  server = await startTestServer({ mongoUri: proxy.uri });
  const doctor = (name: string) => registerUser(server.baseUrl, { name, role: 'doctor' });
  [admin, member, leaver, newcomer, reader, patient] = await Promise.all([
    doctor('Dr Admin'),
    doctor('Dr Member'),
    doctor('Dr Leaver'),
    doctor('Dr Newcomer'),
    doctor('Dr Reader'),
    registerUser(server.baseUrl, { name: 'Pat', role: 'patient' }),
  ]);
  const practice = await createPracticeAs(admin);
  team = await createTeamAs(admin, practice);
  team2 = await createTeamAs(admin, practice, { name: 'Night shift' });
  await addMember(team, admin, member);
  await addMember(team, admin, leaver);
  await giveTeamConsent(patient, team);
  await giveTeamConsent(patient, team2);
  for (let i = 0; i < 8; i++) {
    const record = await createRecordAs(patient, patient, [patient]);
    const up = await upload(patient, record.id, [patient.publicKey]);
    if (up.status !== 201) throw new Error(`upload: ${up.status}`);
    const fileId = up.body.id;
    // The share brings the team's packet for the file too, made from the file's own packets.
    const share = await patient.api.post(`/records/${record.id}/teams`, {
      ...(await teamGrantBody(patient, team, record)),
      attachmentPackets: {
        [fileId]: await packetFor(patient, record.id, fileId, patient.key.privateKey),
      },
    });
    if (share.status !== 201) throw new Error(`share: ${share.status}`);
    if (i === 7) {
      const second = await patient.api.post(`/records/${record.id}/teams`, {
        ...(await teamGrantBody(patient, team2, record)),
        attachmentPackets: {
          [fileId]: await packetFor(
            patient,
            record.id,
            fileId,
            patient.key.privateKey,
            currentKey(team2).publicKey,
          ),
        },
      });
      if (second.status !== 201) throw new Error(`share: ${second.status}`);
    }
    withFiles.push({ record, fileId });
  }
});
afterAll(async () => {
  await server.close();
  await proxy.close();
});

const FILE = new Uint8Array([7, 7, 7]);

/** A file sealed by `author` to `keys`, uploaded as the web app does (before the version naming it). */
async function upload(author: TestUser, recordId: string, keys: string[]) {
  const { message } = await sealFile({
    data: FILE,
    authorKey: author.key.privateKey,
    recipientKeys: keys,
  });
  return author.api.request<{ id: string }>('POST', `/records/${recordId}/attachments`, {
    raw: { data: message, contentType: 'application/octet-stream' },
  });
}

/** A packet for `to` (the team's current key), for the file `fileId`, made by `user` with `myKey`. */
async function packetFor(
  user: TestUser,
  recordId: string,
  fileId: string,
  myKey: UnlockedKey,
  to: string = currentKey(team).publicKey,
) {
  const file = await user.api.get<{ packets: string[] }>(
    `/records/${recordId}/attachments/${fileId}/packets`,
  );
  return createRecipientPacket({
    recipientPackets: file.body.packets,
    myKey,
    newRecipientKey: to,
  });
}

/** `user`'s copy of generation `gen` of the team key, from her envelope; null when she has none. */
async function teamKeyOf(user: TestUser, gen: number) {
  const expected = team.state.keys.find((k) => k.gen === gen);
  const res = await user.api.get<KeyEnvelopeResponse>(`/teams/${team.id}/key-envelopes/${gen}`);
  if (res.status !== 200 || !expected) return null;
  return unwrapTeamKey({
    message: res.body.message,
    myKey: user.key.privateKey,
    context: { teamId: team.id, gen, memberId: user.id },
    expected,
  });
}

/** The record as stored (not as a read cache may still hold it). */
const storedRecord = (id: string) =>
  server.connection
    .collection<{
      _id: string;
      version: number;
      rev: number;
      teams?: { teamId: string; gen: number }[];
    }>('records')
    .findOne({ _id: id });

/**
 * Who opens the file (downloaded by each, with her key for the stored version: the patient her
 * own, a member the team's at the generation the version names). `author` signed the file.
 */
async function openers(recordId: string, fileId: string, author: TestUser = patient) {
  const gen = (await storedRecord(recordId))?.teams?.find((t) => t.teamId === team.id)?.gen ?? 0;
  const opened: string[] = [];
  for (const user of [patient, admin, member, leaver, newcomer, reader]) {
    const key = [patient, reader].includes(user) ? user.key.privateKey : await teamKeyOf(user, gen);
    const down = await user.api.get(`/records/${recordId}/attachments/${fileId}`);
    if (!key || down.status !== 200) continue;
    const file = await openFile({
      message: down.body as Uint8Array,
      myKey: key,
      authorPublicKey: author.publicKey,
    });
    if (file.status === 'verified' && Buffer.from(file.data).equals(Buffer.from(FILE)))
      opened.push(user.name);
  }
  return opened;
}

const storedPackets = async (fileId: string) =>
  (
    (
      await server.connection
        .collection<{ _id: string; packets?: string[] }>('attachments')
        .findOne({ _id: fileId })
    )?.packets ?? []
  ).map((p) => recipientKeyIdOf(p));
const keyIds = async (publicKey: string) => (await readPublicKey(publicKey)).encryptionKeyIds;

describe('a file added to a record shared with a care team', () => {
  it('when the patient, or a member under her consent to the team, adds a version with a file sealed to the team’s current key, then it is stored and every current member opens it', async () => {
    const record = await createRecordAs(patient, patient, [patient]);
    await shareWithTeam(patient, team, record);
    const teams = [{ teamId: team.id, fingerprint: currentKey(team).ref.fingerprint }];
    const keys = [patient.publicKey, currentKey(team).publicKey];
    let version = 1;
    for (const author of [patient, member]) {
      const up = await upload(author, record.id, keys);
      expect([author.name, up.status, codeOf(up)]).toEqual([author.name, 201, undefined]);
      const saved = await author.api.put<RecordDto>(`/records/${record.id}`, {
        baseVersion: version,
        recipients: recipientsOf(patient),
        teams,
        message: await sealFor({
          recordId: record.id,
          version: version + 1,
          owner: patient,
          author,
          readers: [patient],
          teamKeys: [currentKey(team).publicKey],
        }),
      });
      expect([author.name, saved.status]).toEqual([author.name, 200]);
      version = saved.body.version;
      expect(await openers(record.id, up.body.id, author)).toEqual([
        patient.name,
        admin.name,
        member.name,
        leaver.name,
      ]);
    }
  });

  it('when a file for the record leaves the team out, then 400 recipient-mismatch and nothing is stored', async () => {
    const { record } = withFiles[0] ?? { record: undefined };
    if (!record) throw new Error('no record');
    const before = (await patient.api.get<RecordDto>(`/records/${record.id}`)).body.attachments;
    const res = await upload(patient, record.id, [patient.publicKey]);
    expect([res.status, codeOf(res)]).toEqual([400, 'recipient-mismatch']);
    const after = (await patient.api.get<RecordDto>(`/records/${record.id}`)).body.attachments;
    expect(after).toEqual(before);
  });
});

describe('after a leave', () => {
  beforeAll(async () => {
    await removeMember(team, admin, leaver, [admin, member, leaver]);
    // She joins after the rotation: she holds the current key only.
    await addMember(team, admin, newcomer);
  });

  const retiredKey = () => {
    const key = team.teamKeys[team.teamKeys.length - 2];
    if (!key) throw new Error('no retired key');
    return key;
  };

  it('when a file is sealed to the team’s retired key (a tab that missed the rotation), then 400 team-key-not-current and nothing is stored; sealed to the current key, every current member opens it, the newcomer too', async () => {
    const record = await createRecordAs(patient, patient, [patient]);
    await shareWithTeam(patient, team, record);
    const stale = await upload(member, record.id, [patient.publicKey, retiredKey().publicKey]);
    expect([stale.status, codeOf(stale)]).toEqual([400, 'team-key-not-current']);
    const both = await upload(member, record.id, [
      patient.publicKey,
      retiredKey().publicKey,
      currentKey(team).publicKey,
    ]);
    expect([both.status, codeOf(both)]).toEqual([400, 'team-key-not-current']);
    expect((await patient.api.get<RecordDto>(`/records/${record.id}`)).body.attachments).toEqual(
      [],
    );
    const up = await upload(member, record.id, [patient.publicKey, currentKey(team).publicKey]);
    expect(up.status).toBe(201);
    expect(await openers(record.id, up.body.id, member)).toEqual([
      patient.name,
      admin.name,
      member.name,
      newcomer.name,
    ]);
  });

  /** The re-key the admin's browser sends for a record with one file, read by `readers` and the team. */
  async function rekeyBody(
    record: RecordDto,
    fileId: string,
    readers = [patient],
    otherTeamKeys: string[] = [],
  ) {
    const stored = (await admin.api.get<RecordDto>(`/records/${record.id}`)).body;
    const { message } = await sealRekey({
      rekey: {
        recordId: stored.id as RecordId,
        version: stored.version + 1,
        ownerId: patient.id as UserId,
        teamId: team.id,
        genesis: team.state.genesis,
      },
      base: { message: stored.message, myKey: retiredKey().privateKey },
      signerKey: admin.key.privateKey,
      recipientKeys: [
        ...readers.map((u) => u.publicKey),
        currentKey(team).publicKey,
        ...otherTeamKeys,
      ],
    });
    return {
      baseVersion: stored.version,
      teamId: team.id,
      message,
      attachmentPackets: {
        [fileId]: await packetFor(admin, record.id, fileId, retiredKey().privateKey),
      },
    };
  }

  /** A BSON `update` command on `collection` (its name as a length-prefixed string). */
  const updateOf = (collection: string) => {
    const length = Buffer.alloc(4);
    length.writeInt32LE(collection.length + 1);
    return ['\x02update\x00', `${length.toString('latin1')}${collection}\x00`];
  };

  // Each step on a record of its own; `committed`: whether the version was stored before it.
  it.each([
    ['the new key’s packet for the file', updateOf('attachments'), 0, 1, false],
    ['the version (the commit)', updateOf('records'), 0, 2, false],
    ['the retired key’s packet taken off the file', updateOf('attachments'), 1, 3, true],
  ] as const)(
    'when the database fails while a re-key stores %s, then every remaining member still opens the file of the stored version, the leaver gets 404, no packet is lost, and the next run finishes',
    async (_step, parts, after, n, committed) => {
      const target = withFiles[n];
      if (!target) throw new Error('no record');
      const { record, fileId } = target;
      const before = await storedPackets(fileId);
      const body = await rekeyBody(record, fileId);
      proxy.resetOn(parts, { after });
      const res = await admin.api.post<RecordDto>(`/records/${record.id}/rekey`, body);
      proxy.resetOn(undefined);
      expect([res.status, codeOf(res)]).toEqual([503, 'database-unavailable']);

      const rekeyed = (await storedRecord(record.id))?.version === 2;
      expect(rekeyed).toBe(committed);
      expect(await openers(record.id, fileId)).toEqual([
        patient.name,
        admin.name,
        member.name,
        ...(rekeyed ? [newcomer.name] : []),
      ]);
      expect(codeOf(await leaver.api.get(`/records/${record.id}/attachments/${fileId}`))).toBe(
        'record-not-found',
      );
      // Nothing stored is lost: every packet the file had is kept, or replaced by the new key's.
      const retired = await keyIds(retiredKey().publicKey);
      const kept = before.filter((id) => !retired.includes(id));
      expect(await storedPackets(fileId)).toEqual(expect.arrayContaining(kept));

      // The next run: a version slot the failed write left is freed after a minute (here: aged).
      if (!rekeyed) {
        await server.connection
          .collection<{ _id: string; createdAt: Date }>('record_versions')
          .updateOne({ _id: `${record.id}:2` }, { $set: { createdAt: new Date(0) } });
        const again = await admin.api.post(
          `/records/${record.id}/rekey`,
          await rekeyBody(record, fileId),
        );
        expect([again.status, codeOf(again)]).toEqual([200, undefined]);
      }
      expect(await openers(record.id, fileId)).toEqual([
        patient.name,
        admin.name,
        member.name,
        newcomer.name,
      ]);
      const last = await storedPackets(fileId);
      expect(last).toEqual(
        expect.arrayContaining([...kept, ...(await keyIds(currentKey(team).publicKey))]),
      );
      // A clean-up the failure cut off waits for the team's next re-key of the record (it opens
      // only what the leaver could open before she left: docs/care-teams.md).
      expect(retired.some((id) => last.includes(id))).toBe(committed);
    },
  );

  it('when a share lands while a re-key waits for the record’s claim, then the re-key loses the race (409) before it writes anything, every reader still opens the file, the share keeps its packet, and the next run finishes', async () => {
    const target = withFiles[4];
    if (!target) throw new Error('no record');
    const { record, fileId } = target;
    const rev = (await storedRecord(record.id))?.rev ?? 0;
    const body = await rekeyBody(record, fileId);
    const held = proxy.holdOn([
      '\x02insert\x00',
      'write_claims\x00',
      `record:${record.id}:${rev + 1}`,
    ]);
    const rekey = admin.api.post(`/records/${record.id}/rekey`, body);
    await held.seen;
    const share = await patient.api.post(`/records/${record.id}/grants`, {
      ...(await grantBody(patient, reader, record)),
      attachmentPackets: {
        [fileId]: await packetFor(
          patient,
          record.id,
          fileId,
          patient.key.privateKey,
          reader.publicKey,
        ),
      },
    });
    expect(share.status).toBe(201);
    held.release();
    const lost = await rekey;
    expect([lost.status, codeOf(lost)]).toEqual([409, 'version-conflict']);
    // Under its claim the re-key found the record moved on, so it wrote no packet for the new key.
    const current = await keyIds(currentKey(team).publicKey);
    const readerIds = await keyIds(reader.publicKey);
    const lostPackets = await storedPackets(fileId);
    expect(lostPackets).toEqual(expect.arrayContaining(readerIds));
    expect(current.filter((id) => lostPackets.includes(id))).toEqual([]);
    expect(await openers(record.id, fileId)).toEqual([
      patient.name,
      admin.name,
      member.name,
      reader.name,
    ]);

    const again = await admin.api.post(
      `/records/${record.id}/rekey`,
      await rekeyBody(record, fileId, [patient, reader]),
    );
    expect(again.status).toBe(200);
    expect(await openers(record.id, fileId)).toEqual([
      patient.name,
      admin.name,
      member.name,
      newcomer.name,
      reader.name,
    ]);
    const last = await storedPackets(fileId);
    expect(last).toEqual(expect.arrayContaining([...current, ...readerIds]));
    for (const id of await keyIds(retiredKey().publicKey)) expect(last).not.toContain(id);
  });

  it('when a member edits a record with a file after a leave, before its re-key, then her version brings the new key’s packet for the kept file (a wrong or garbled one: 400, nothing stored), every current member opens the file, and the retired key’s packet is gone', async () => {
    const target = withFiles[5];
    if (!target) throw new Error('no record');
    const { record, fileId } = target;
    const myOldKey = await teamKeyOf(member, 1);
    if (!myOldKey) throw new Error('no envelope of generation 1');
    const edit = async (attachmentPackets: Record<string, string[]>) =>
      member.api.put<RecordDto>(`/records/${record.id}`, {
        baseVersion: 1,
        recipients: recipientsOf(patient),
        teams: [{ teamId: team.id, fingerprint: currentKey(team).ref.fingerprint }],
        message: await sealFor({
          recordId: record.id,
          version: 2,
          owner: patient,
          author: member,
          readers: [patient],
          teamKeys: [currentKey(team).publicKey],
        }),
        attachmentPackets,
      });
    const toPatient = await packetFor(member, record.id, fileId, myOldKey, patient.publicKey);
    const wrong = await edit({ [fileId]: [toPatient] });
    expect([wrong.status, codeOf(wrong)]).toEqual([400, 'attachment-packets-mismatch']);
    expect((await storedRecord(record.id))?.version).toBe(1);
    const garbled = await edit({ [fileId]: ['not-a-packet'] });
    expect([garbled.status, codeOf(garbled)]).toEqual([400, 'not-a-message']);
    expect((await storedRecord(record.id))?.version).toBe(1);
    const saved = await edit({ [fileId]: [await packetFor(member, record.id, fileId, myOldKey)] });
    expect(saved.status).toBe(200);
    expect(await openers(record.id, fileId)).toEqual([
      patient.name,
      admin.name,
      member.name,
      newcomer.name,
    ]);
    const last = await storedPackets(fileId);
    for (const id of await keyIds(retiredKey().publicKey)) expect(last).not.toContain(id);
  });

  it('when a member’s edit moves the team to its new key but brings no packet for a file of the record, then 400 attachment-packets-mismatch and nothing is stored', async () => {
    const target = withFiles[6];
    if (!target) throw new Error('no record');
    const { record, fileId } = target;
    const res = await member.api.put<RecordDto>(`/records/${record.id}`, {
      baseVersion: 1,
      recipients: recipientsOf(patient),
      teams: [{ teamId: team.id, fingerprint: currentKey(team).ref.fingerprint }],
      message: await sealFor({
        recordId: record.id,
        version: 2,
        owner: patient,
        author: member,
        readers: [patient],
        teamKeys: [currentKey(team).publicKey],
      }),
    });
    expect([res.status, codeOf(res)]).toEqual([400, 'attachment-packets-mismatch']);
    expect((await storedRecord(record.id))?.version).toBe(1);
    for (const id of await keyIds(retiredKey().publicKey))
      expect(await storedPackets(fileId)).toContain(id);
  });

  it('when a re-key for one team finds another team of the record with files behind its key too, then 409 other-team-behind and nothing is stored', async () => {
    const target = withFiles[7];
    if (!target) throw new Error('no record');
    const { record, fileId } = target;
    await rotateTeam(team2, admin, [admin]);
    const body = await rekeyBody(record, fileId, [patient], [currentKey(team2).publicKey]);
    const res = await admin.api.post<RecordDto>(`/records/${record.id}/rekey`, body);
    expect([res.status, codeOf(res)]).toEqual([409, 'other-team-behind']);
    expect((await storedRecord(record.id))?.version).toBe(1);
  });
});
