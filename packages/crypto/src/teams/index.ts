// Care teams (DESIGN §13, docs/care-teams.md): signed statements, the team key, team grants.
export {
  MAX_TEAM_MEMBERS,
  MAX_TEAM_STATEMENT_CHARS,
  TEAM_STATEMENT_VERSION,
  applyTeamStatement,
  parseTeamStatement,
  peekTeamStatement,
  replayTeamLog,
  signTeamStatement,
  statementHashesSignedBy,
  teamStatementHash,
} from './statements';
export type {
  PinnedTeamHead,
  ReplayTeamLogResult,
  TeamChange,
  TeamChangeType,
  TeamKeyRef,
  TeamKeyState,
  TeamMemberEntry,
  TeamMemberState,
  TeamRole,
  TeamRuleCode,
  TeamState,
  TeamStatement,
} from './statements';
export {
  MAX_TEAM_KEY_ENVELOPE_CHARS,
  checkTeamPublicKey,
  generateTeamKey,
  teamKeyRef,
  unwrapTeamKey,
  wrapTeamKey,
} from './team-key';
export type { GeneratedTeamKey, TeamKeyEnvelopeContext } from './team-key';
export { createTeamGrant, verifyTeamGrant } from './team-grants';
export type { TeamGrant, TeamGrantInput } from './team-grants';
export { attestationOf, currentTeamKey, teamKeyAt, teamMember } from './state';
export type { TeamAttestation } from './state';
