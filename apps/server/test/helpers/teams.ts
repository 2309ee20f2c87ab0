import { randomBytes } from 'node:crypto';
import {
  createRecipientPacket,
  createTeamGrant,
  generateTeamKey,
  signTeamStatement,
  wrapTeamKey,
  type GeneratedTeamKey,
  type TeamChange,
  type TeamRole,
  type TeamState,
  type UserId,
} from '@medseal/crypto';
import { armorMessage, dearmor } from '@medseal/crypto/inspect';
import type { PracticeDto, TeamDto } from '@medseal/contract';
import type { TestUser } from './users';

/** A team as its admins' browsers know it: the verified state and every team key made. */
export interface TestTeam {
  id: string;
  state: TeamState;
  teamKeys: GeneratedTeamKey[];
}

export const newTeamId = () => randomBytes(16).toString('base64url');

export function memberEntry(user: TestUser, role: TeamRole = 'doctor', admin = false) {
  return {
    userId: user.id as UserId,
    fingerprint: user.fingerprint as TeamState['root']['fingerprint'],
    role,
    admin,
  };
}

export async function createPracticeAs(admin: TestUser, name = "St Mary's"): Promise<PracticeDto> {
  const res = await admin.api.post<PracticeDto>('/practices', { name });
  if (res.status !== 201) throw new Error(`practice: ${res.status} ${JSON.stringify(res.body)}`);
  return res.body;
}

/** The request body that creates a team (not sent), and what the founder's browser keeps. */
export async function createTeamBody(
  founder: TestUser,
  practice: { id: string; name: string },
  opts: { teamId?: string; name?: string } = {},
) {
  const teamKey = await generateTeamKey();
  const made = await signTeamStatement({
    state: null,
    teamId: opts.teamId ?? newTeamId(),
    change: {
      type: 'create',
      practiceId: practice.id,
      practiceName: practice.name,
      name: opts.name ?? 'Cardiology',
      founder: memberEntry(founder, 'doctor', true),
      teamKey: teamKey.ref,
    },
    signerId: founder.id as UserId,
    signerKey: founder.key.privateKey,
  });
  const envelope = await wrapTeamKey({
    teamKey: teamKey.privateKey,
    context: { teamId: made.state.teamId, gen: 1, memberId: founder.id },
    memberPublicKey: founder.publicKey,
  });
  return {
    body: {
      statement: made.signed,
      teamPublicKey: teamKey.publicKey as string,
      keyEnvelopes: [{ memberId: founder.id, message: envelope as string }],
    },
    team: { id: made.state.teamId, state: made.state, teamKeys: [teamKey] } as TestTeam,
  };
}

export async function createTeamAs(
  founder: TestUser,
  practice: { id: string; name: string },
  opts: { name?: string } = {},
): Promise<TestTeam> {
  const { body, team } = await createTeamBody(founder, practice, opts);
  const res = await founder.api.post<TeamDto>(`/practices/${practice.id}/teams`, body);
  if (res.status !== 201) throw new Error(`team: ${res.status} ${JSON.stringify(res.body)}`);
  return team;
}

/** Signs `change` for the team and builds the body the admin's browser sends (not sent). */
export async function statementBody(
  team: TestTeam,
  admin: TestUser,
  change: TeamChange,
  opts: { recipients?: TestUser[]; teamKey?: GeneratedTeamKey } = {},
) {
  const made = await signTeamStatement({
    state: team.state,
    change,
    signerId: admin.id as UserId,
    signerKey: admin.key.privateKey,
  });
  const key = opts.teamKey ?? team.teamKeys[team.teamKeys.length - 1];
  if (!key) throw new Error('no team key');
  const gen = made.state.keys[made.state.keys.length - 1]?.gen ?? 1;
  const keyEnvelopes = await Promise.all(
    (opts.recipients ?? []).map(async (u) => ({
      memberId: u.id,
      message: (await wrapTeamKey({
        teamKey: key.privateKey,
        context: { teamId: team.id, gen, memberId: u.id },
        memberPublicKey: u.publicKey,
      })) as string,
    })),
  );
  return {
    made,
    body: {
      statement: made.signed,
      ...(opts.teamKey ? { teamPublicKey: opts.teamKey.publicKey as string } : {}),
      ...(keyEnvelopes.length > 0 ? { keyEnvelopes } : {}),
    },
  };
}

async function send(
  team: TestTeam,
  admin: TestUser,
  built: Awaited<ReturnType<typeof statementBody>>,
  newKey?: GeneratedTeamKey,
): Promise<TeamDto> {
  const res = await admin.api.post<TeamDto>(`/teams/${team.id}/statements`, built.body);
  if (res.status !== 201) throw new Error(`statement: ${res.status} ${JSON.stringify(res.body)}`);
  team.state = built.made.state;
  if (newKey) team.teamKeys.push(newKey);
  return res.body;
}

export async function addMember(
  team: TestTeam,
  admin: TestUser,
  member: TestUser,
  role: TeamRole = 'doctor',
  isAdmin = false,
) {
  return send(
    team,
    admin,
    await statementBody(
      team,
      admin,
      { type: 'add', member: memberEntry(member, role, isAdmin) },
      { recipients: [member] },
    ),
  );
}

/** The remaining members after `leaving` goes, in the form a removal's envelopes need. */
function remaining(team: TestTeam, users: TestUser[], leaving?: TestUser): TestUser[] {
  return users.filter((u) => u !== leaving && team.state.members.some((m) => m.userId === u.id));
}

/** Removes `member` with the next team key, wrapped for everyone in `everyone` who stays. */
export async function removeMember(
  team: TestTeam,
  admin: TestUser,
  member: TestUser,
  everyone: TestUser[],
) {
  const teamKey = await generateTeamKey();
  const built = await statementBody(
    team,
    admin,
    { type: 'remove', userId: member.id as UserId, teamKey: teamKey.ref },
    { recipients: remaining(team, everyone, member), teamKey },
  );
  return send(team, admin, built, teamKey);
}

export async function rotateTeam(team: TestTeam, admin: TestUser, everyone: TestUser[]) {
  const teamKey = await generateTeamKey();
  const built = await statementBody(
    team,
    admin,
    { type: 'rotate', teamKey: teamKey.ref },
    { recipients: remaining(team, everyone), teamKey },
  );
  return send(team, admin, built, teamKey);
}

/** The same signed statement with `from` replaced by `to` (same length) inside the signed bytes. */
export function tampered(signed: string, from: string, to: string): string {
  const decoded = dearmor(signed);
  if (!decoded.ok) throw new Error('not armored');
  const text = Buffer.from(decoded.bytes).toString('latin1');
  const at = text.indexOf(from);
  if (at < 0 || from.length !== to.length) throw new Error(`cannot find ${from}`);
  return armorMessage(Buffer.from(text.slice(0, at) + to + text.slice(at + from.length), 'latin1'));
}

/**
 * The team as `user`'s browser would see it if it believed they were an admin: the real head,
 * `user` among the admins. What a removed admin, a plain member or someone holding a member's key
 * would sign against.
 */
export function asIfAdmin(team: TestTeam, user: TestUser): TestTeam {
  const others = team.state.members.filter((m) => m.userId !== user.id);
  const entry = {
    ...memberEntry(user, 'doctor', true),
    since: team.state.at,
    signedBy: user.id as UserId,
    seq: 0,
  };
  return { ...team, state: { ...team.state, members: [...others, entry] } };
}

/** The team's current key as its admins' browsers hold it. */
export function currentKey(team: TestTeam): GeneratedTeamKey {
  const key = team.teamKeys[team.teamKeys.length - 1];
  if (!key) throw new Error('no team key');
  return key;
}

/** The body a sharer's client sends to share `record` with `team` (its current key unless `teamKey`). */
export async function teamGrantBody(
  sharer: TestUser,
  team: TestTeam,
  record: { id: string; message: string },
  opts: {
    teamKey?: GeneratedTeamKey;
    genesis?: string;
    expiresAt?: Date;
    signedBy?: TestUser;
  } = {},
) {
  const signer = opts.signedBy ?? sharer;
  const pkesk = await createRecipientPacket({
    message: record.message,
    myKey: sharer.key.privateKey,
    newRecipientKey: (opts.teamKey ?? currentKey(team)).publicKey,
  });
  const { signedGrant } = await createTeamGrant({
    grant: {
      recordId: record.id,
      teamId: team.id,
      genesis: opts.genesis ?? team.state.genesis,
      grantedBy: signer.id,
      ...(opts.expiresAt ? { expiresAt: opts.expiresAt } : {}),
    },
    signerKey: signer.key.privateKey,
  });
  return { teamId: team.id, signedGrant, pkesk };
}

/** Shares through the API; throws unless 201. */
export async function shareWithTeam(
  sharer: TestUser,
  team: TestTeam,
  record: { id: string; message: string },
) {
  const res = await sharer.api.post(
    `/records/${record.id}/teams`,
    await teamGrantBody(sharer, team, record),
  );
  if (res.status !== 201)
    throw new Error(`team share failed: ${res.status} ${JSON.stringify(res.body)}`);
}
