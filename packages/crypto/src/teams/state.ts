// Questions asked of a verified team state (`replayTeamLog`): which team key counts, who is a
// member, what a member's role is attested as. Pure functions over plain data.
import type { Fingerprint, UserId } from '../types';
import type { TeamKeyState, TeamMemberState, TeamRole, TeamState } from './statements';

/** The team's current key (the last generation). */
export function currentTeamKey(state: TeamState): TeamKeyState {
  const key = state.keys[state.keys.length - 1];
  // A state is only ever made by the creation statement, which brings generation 1.
  if (!key) throw new TypeError('a team state always has a key');
  return key;
}

/**
 * The team key that was current at `at` (a message's or grant's signature time), or undefined
 * before the team existed. The reader rule of docs/care-teams.md: a team key counts for a
 * message only if it was the team's key when that message (or the grant adding the team) was
 * signed, so a version sealed to a retired key after its rotation is refused.
 */
export function teamKeyAt(state: TeamState, at: Date | string): TeamKeyState | undefined {
  const t = typeof at === 'string' ? Date.parse(at) : at.getTime();
  if (Number.isNaN(t)) return undefined;
  // Newest first: statements with the same `at` resolve to the later key.
  return [...state.keys]
    .reverse()
    .find((k) => Date.parse(k.from) <= t && (k.until === undefined || t < Date.parse(k.until)));
}

/** The member entry of `userId` when they are a current member holding `fingerprint`. */
export function teamMember(
  state: TeamState,
  who: { userId: string; fingerprint?: string },
): TeamMemberState | undefined {
  const member = state.members.find((m) => m.userId === who.userId);
  if (!member || (who.fingerprint !== undefined && member.fingerprint !== who.fingerprint))
    return undefined;
  return member;
}

/** What the app shows for an attested member: "Dr X, doctor in <team> (<practice>), signed by <admin>". */
export interface TeamAttestation {
  teamId: string;
  teamName: string;
  practiceName: string;
  role: TeamRole;
  admin: boolean;
  since: string;
  signedBy: UserId;
  /** The team's root admin key, which the viewer compared (or not) when pinning the team. */
  rootFingerprint: Fingerprint;
}

/**
 * The attestation of a user with this key in a verified team, or null when they are not a
 * current member with exactly this key (then their role is only self-declared).
 */
export function attestationOf(
  state: TeamState,
  who: { userId: string; fingerprint: string },
): TeamAttestation | null {
  const member = teamMember(state, who);
  if (!member) return null;
  return {
    teamId: state.teamId,
    teamName: state.name,
    practiceName: state.practiceName,
    role: member.role,
    admin: member.admin,
    since: member.since,
    signedBy: member.signedBy,
    rootFingerprint: state.root.fingerprint,
  };
}
