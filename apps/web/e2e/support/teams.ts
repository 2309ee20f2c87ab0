// Care teams seeded from Node through the real API, as an admin's and a patient's browsers make
// them (DESIGN §13): signed statements, team keys wrapped per member, records shared with a team
// by one PKESK and one signed team grant. For E2E suites and the rotation bench, whose subject is
// what the browser does next, not these steps (care-teams.e2e.test.ts drives them in the UI).
import { randomBytes } from 'node:crypto';
import * as pgp from '@medseal/crypto';
import type { RecordId, TeamChange, TeamState, UserId } from '@medseal/crypto';
import { api, type Session } from './api';
import type { Account } from './app';

/** A user registered from Node (`registerUser`). */
export interface NodeUser {
  id: string;
  key: pgp.GeneratedUserKey;
  session: Session;
}

export interface NodeTeam {
  id: string;
  state: TeamState;
  /** Every generation's key, oldest first (index 0 = generation 1). */
  keys: pgp.GeneratedTeamKey[];
}

export const newId = () => randomBytes(16).toString('base64url');

const memberEntry = (u: NodeUser, admin: boolean) => ({
  userId: u.id as UserId,
  fingerprint: u.key.fingerprint,
  role: 'doctor' as const,
  admin,
});

function currentKey(team: NodeTeam): pgp.GeneratedTeamKey {
  const key = team.keys[team.keys.length - 1];
  if (!key) throw new Error('a team always has a key');
  return key;
}

const envelopeFor = (team: { id: string }, key: pgp.GeneratedTeamKey, gen: number, u: NodeUser) =>
  pgp.wrapTeamKey({
    teamKey: key.privateKey,
    context: { teamId: team.id, gen, memberId: u.id },
    memberPublicKey: u.key.publicKey,
  });

/** A practice and a team in it, founded by `admin` (its root: the key patients compare). */
export async function createTeam(
  admin: NodeUser,
  name = 'Cardiology',
  practiceName = 'St Mary’s',
): Promise<NodeTeam> {
  const practice = await api<{ id: string; name: string }>(admin.session, 'POST', '/practices', {
    name: practiceName,
  });
  const teamKey = await pgp.generateTeamKey();
  const id = newId();
  const created = await pgp.signTeamStatement({
    state: null,
    teamId: id,
    change: {
      type: 'create',
      practiceId: practice.id,
      practiceName: practice.name,
      name,
      founder: memberEntry(admin, true),
      teamKey: teamKey.ref,
    },
    signerId: admin.id as UserId,
    signerKey: admin.key.privateKey,
  });
  const team = { id, state: created.state, keys: [teamKey] };
  await api(admin.session, 'POST', `/practices/${practice.id}/teams`, {
    statement: created.signed,
    teamPublicKey: teamKey.publicKey,
    keyEnvelopes: [{ memberId: admin.id, message: await envelopeFor(team, teamKey, 1, admin) }],
  });
  return team;
}

async function append(
  team: NodeTeam,
  admin: NodeUser,
  change: TeamChange,
  body: { teamPublicKey?: string; keyEnvelopes: { memberId: string; message: string }[] },
) {
  const made = await pgp.signTeamStatement({
    state: team.state,
    change,
    signerId: admin.id as UserId,
    signerKey: admin.key.privateKey,
  });
  await api(admin.session, 'POST', `/teams/${team.id}/statements`, {
    statement: made.signed,
    ...body,
  });
  team.state = made.state;
}

/** Join: one statement and the current team key wrapped for the newcomer. */
export async function addMember(team: NodeTeam, admin: NodeUser, member: NodeUser): Promise<void> {
  const gen = team.keys.length;
  await append(
    team,
    admin,
    { type: 'add', member: memberEntry(member, false) },
    {
      keyEnvelopes: [
        { memberId: member.id, message: await envelopeFor(team, currentKey(team), gen, member) },
      ],
    },
  );
}

/** Leave: the removal names the next team key, wrapped for each member in `staying`. */
export async function removeMember(
  team: NodeTeam,
  admin: NodeUser,
  leaver: NodeUser,
  staying: NodeUser[],
): Promise<void> {
  const next = await pgp.generateTeamKey();
  const gen = team.keys.length + 1;
  const keyEnvelopes = await Promise.all(
    staying.map(async (u) => ({ memberId: u.id, message: await envelopeFor(team, next, gen, u) })),
  );
  await append(
    team,
    admin,
    { type: 'remove', userId: leaver.id as UserId, teamKey: next.ref },
    { teamPublicKey: next.publicKey, keyEnvelopes },
  );
  team.keys.push(next);
}

/** A note of `owner`'s, to her alone; returns its id and message. */
export async function createNote(
  owner: NodeUser,
  title: string,
): Promise<{ id: string; message: string }> {
  const id = newId();
  const { message } = await pgp.sealRecord({
    envelope: {
      recordId: id as RecordId,
      version: 1,
      ownerId: owner.id as UserId,
      authorId: owner.id as UserId,
      createdAt: new Date().toISOString(),
      content: {
        v: 1,
        kind: 'note',
        title,
        date: '2026-12-03',
        body: 'Seen in clinic.',
        attachments: [],
      },
    },
    authorKey: owner.key.privateKey,
    recipientKeys: [owner.key.publicKey],
  });
  await api(owner.session, 'POST', '/records', {
    recordId: id,
    ownerId: owner.id,
    recipients: [{ userId: owner.id, fingerprint: owner.key.fingerprint }],
    message,
  });
  return { id, message };
}

/** Share with the team: one PKESK for its current key and one team grant signed by the owner. */
export async function shareWithTeam(
  owner: NodeUser,
  team: NodeTeam,
  record: { id: string; message: string },
): Promise<void> {
  const pkesk = await pgp.createRecipientPacket({
    message: record.message,
    myKey: owner.key.privateKey,
    newRecipientKey: currentKey(team).publicKey,
  });
  const { signedGrant } = await pgp.createTeamGrant({
    grant: {
      recordId: record.id,
      teamId: team.id,
      genesis: team.state.genesis,
      grantedBy: owner.id,
    },
    signerKey: owner.key.privateKey,
  });
  await api(owner.session, 'POST', `/records/${record.id}/teams`, {
    teamId: team.id,
    signedGrant,
    pkesk,
  });
}

/** The patient lets every current member write for her, re-keys included (DESIGN §13 consent to a team). */
export async function consentToTeam(patient: NodeUser, team: NodeTeam): Promise<void> {
  const { signedConsent } = await pgp.createConsent({
    consent: {
      patientId: patient.id,
      subject: {
        kind: 'team',
        id: team.id,
        fingerprint: team.state.root.fingerprint,
        genesis: team.state.genesis,
      },
      seq: 1,
    },
    patientKey: patient.key.privateKey,
  });
  await api(patient.session, 'PUT', `/patients/${patient.id}/team-consents/${team.id}`, {
    signedConsent,
  });
}

/** The people a suite registered through the API, by their account. */
export function registeredUsers() {
  const users = new Map<Account, NodeUser>();
  return {
    set: (a: Account, u: NodeUser) => void users.set(a, u),
    /** @throws Error when `a` was not registered first. */
    user: (a: Account): NodeUser => {
      const u = users.get(a);
      if (!u) throw new Error(`${a.name} is not registered`);
      return u;
    },
  };
}
