// Helpers for the care-team tests: people with keys, and a team log driven like an admin's
// browser drives it (sign a change, keep the statements as the server would store them).
import {
  generateTeamKey,
  signTeamStatement,
  type GeneratedTeamKey,
  type GeneratedUserKey,
  type TeamChange,
  type TeamMemberEntry,
  type TeamRole,
  type TeamState,
  type UserId,
} from '../src';
import { makeUser } from './helpers';

export interface Person {
  id: UserId;
  key: GeneratedUserKey;
}

let counter = 0;

export async function person(name: string): Promise<Person> {
  return { id: `u-${name.toLowerCase()}-${counter++}` as UserId, key: await makeUser(name) };
}

export function entry(p: Person, role: TeamRole = 'doctor', admin = false): TeamMemberEntry {
  return { userId: p.id, fingerprint: p.key.fingerprint, role, admin };
}

export const TEAM_ID = 'team-cardiology';

/** A team as its admins build it: every statement signed for real, kept in order. */
export class TeamLog {
  readonly statements: string[] = [];
  /** Team keys by generation (index 0 = gen 1). */
  readonly teamKeys: GeneratedTeamKey[] = [];

  private constructor(public state: TeamState) {}

  static async create(
    founder: Person,
    opts: { teamId?: string; at?: Date } = {},
  ): Promise<TeamLog> {
    const teamKey = await generateTeamKey();
    const made = await signTeamStatement({
      state: null,
      teamId: opts.teamId ?? TEAM_ID,
      change: {
        type: 'create',
        practiceId: 'practice-st-marys',
        practiceName: "St Mary's",
        name: 'Cardiology',
        founder: entry(founder, 'doctor', true),
        teamKey: teamKey.ref,
      },
      signerId: founder.id,
      signerKey: founder.key.privateKey,
      ...(opts.at ? { at: opts.at } : {}),
    });
    const log = new TeamLog(made.state);
    log.statements.push(made.signed);
    log.teamKeys.push(teamKey);
    return log;
  }

  /** A copy that goes on its own way from here (an equivocating admin's second branch). */
  fork(): TeamLog {
    const copy = new TeamLog(this.state);
    copy.statements.push(...this.statements);
    copy.teamKeys.push(...this.teamKeys);
    return copy;
  }

  get currentTeamKey(): GeneratedTeamKey {
    const key = this.teamKeys[this.teamKeys.length - 1];
    if (!key) throw new Error('no team key');
    return key;
  }

  async sign(change: TeamChange, by: Person, at?: Date): Promise<string> {
    const made = await signTeamStatement({
      state: this.state,
      change,
      signerId: by.id,
      signerKey: by.key.privateKey,
      ...(at ? { at } : {}),
    });
    this.state = made.state;
    this.statements.push(made.signed);
    return made.signed;
  }

  add(member: TeamMemberEntry, by: Person) {
    return this.sign({ type: 'add', member }, by);
  }

  /** A removal with its new team key, as the admin's browser makes it. */
  async remove(userId: UserId, by: Person) {
    const next = await generateTeamKey();
    await this.sign({ type: 'remove', userId, teamKey: next.ref }, by);
    this.teamKeys.push(next);
  }

  async rotate(by: Person) {
    const next = await generateTeamKey();
    await this.sign({ type: 'rotate', teamKey: next.ref }, by);
    this.teamKeys.push(next);
  }
}

/**
 * A statement made without the rules: what a server (or a removed admin) would produce. `by`
 * says who it claims to be signed by; `signer` is the key that really signs it.
 */
export async function forgeStatement(opts: {
  state: TeamState;
  change: TeamChange;
  by: Person;
  signer: Person;
}): Promise<string> {
  const { signInline, statementBytes } = await import('../src/signing');
  const statement = {
    v: 1,
    teamId: opts.state.teamId,
    seq: opts.state.seq + 1,
    prev: opts.state.head,
    at: opts.state.at,
    by: { userId: opts.by.id, fingerprint: opts.by.key.fingerprint },
    change: opts.change,
  };
  return signInline(
    statementBytes('medseal/team-statement', 'statement', statement),
    opts.signer.key.privateKey,
  );
}
