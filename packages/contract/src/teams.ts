import { z } from 'zod';
import {
  safeText,
  armoredSchema,
  fingerprintSchema,
  idSchema,
  isoDate,
  MAX_KEY_CHARS,
  pageQuerySchema,
  roleSchema,
} from './common';
import { endpoint } from './endpoint';
import { messageCheckCodes, recordListResponseSchema } from './records';

/**
 * Care teams (DESIGN §13, docs/care-teams.md). The server stores each team's signed statements
 * and what they say (members, team key generations), and one key envelope per member and key;
 * clients replay the statements themselves and trust only that.
 */

/** Longest armored signed statement (a statement is ~1 KiB). */
export const MAX_TEAM_STATEMENT_CHARS = 16 * 1024;
/** Longest key envelope (the team key encrypted to one member, ~1.5 KiB). */
export const MAX_TEAM_KEY_ENVELOPE_CHARS = 16 * 1024;

/** Practice and team names: no control, bidi-override or invisible format characters. */
export const teamNameSchema = safeText(z.string().trim().min(1).max(120));

export const teamRoleSchema = z.enum(['doctor', 'nurse', 'staff']);
export type TeamRoleName = z.infer<typeof teamRoleSchema>;

const statement = armoredSchema(MAX_TEAM_STATEMENT_CHARS);

/** The team key encrypted to one member, for the key generation the statement concerns. */
export const keyEnvelopeSchema = z
  .object({ memberId: idSchema, message: armoredSchema(MAX_TEAM_KEY_ENVELOPE_CHARS) })
  .strict();
export type KeyEnvelope = z.infer<typeof keyEnvelopeSchema>;

export const createPracticeRequestSchema = z.object({ name: teamNameSchema }).strict();
export type CreatePracticeRequest = z.infer<typeof createPracticeRequestSchema>;

export const practiceAdminRequestSchema = z.object({ userId: idSchema }).strict();
export type PracticeAdminRequest = z.infer<typeof practiceAdminRequestSchema>;

/**
 * A new team: its creation statement (signed by the caller, a practice admin, as founder), the
 * team public key it names, and the founder's key envelope.
 */
export const createTeamRequestSchema = z
  .object({
    statement,
    teamPublicKey: armoredSchema(MAX_KEY_CHARS),
    keyEnvelopes: z.array(keyEnvelopeSchema).length(1),
  })
  .strict();
export type CreateTeamRequest = z.infer<typeof createTeamRequestSchema>;

/**
 * The next statement of a team, signed by the caller (a current admin). `add`: the newcomer's
 * envelope of the current key. `remove` / `rotate`: the new team public key and one envelope of
 * it per remaining member. `update`: nothing else.
 */
export const appendTeamStatementRequestSchema = z
  .object({
    statement,
    teamPublicKey: armoredSchema(MAX_KEY_CHARS).optional(),
    keyEnvelopes: z.array(keyEnvelopeSchema).max(500).optional(),
  })
  .strict();
export type AppendTeamStatementRequest = z.infer<typeof appendTeamStatementRequestSchema>;

export const teamMemberSchema = z.object({
  userId: idSchema,
  name: z.string(),
  /** The account's self-declared role. */
  accountRole: roleSchema,
  fingerprint: fingerprintSchema,
  /** The role an admin attested in the team. */
  role: teamRoleSchema,
  admin: z.boolean(),
  since: isoDate,
});
export type TeamMember = z.infer<typeof teamMemberSchema>;

export const teamKeySchema = z.object({
  gen: z.number().int().min(1),
  fingerprint: fingerprintSchema,
  publicKey: z.string(),
});
export type TeamKeyDto = z.infer<typeof teamKeySchema>;

/** The server's view of a team. Clients show only what they verified by replaying the statements. */
export const teamSchema = z.object({
  id: idSchema,
  practiceId: idSchema,
  name: z.string(),
  practiceName: z.string(),
  /** Hash of the creation statement; with the id, what patients pin and grants name. */
  genesis: z.string(),
  head: z.object({ seq: z.number().int().min(0), hash: z.string() }),
  /** The founder, whose key a patient compares before trusting the team. */
  root: z.object({ userId: idSchema, name: z.string(), fingerprint: fingerprintSchema }),
  members: z.array(teamMemberSchema),
  /** Every generation of the team key, oldest first; the last is current. */
  keys: z.array(teamKeySchema).min(1),
});
export type TeamDto = z.infer<typeof teamSchema>;

export const teamSummarySchema = z.object({
  id: idSchema,
  name: z.string(),
  practiceId: idSchema,
  practiceName: z.string(),
  root: z.object({ userId: idSchema, name: z.string(), fingerprint: fingerprintSchema }),
});
export type TeamSummary = z.infer<typeof teamSummarySchema>;
export const teamListResponseSchema = z.object({ teams: z.array(teamSummarySchema) });
export type TeamListResponse = z.infer<typeof teamListResponseSchema>;

export const practiceSchema = z.object({
  id: idSchema,
  name: z.string(),
  admins: z.array(z.object({ userId: idSchema, name: z.string(), fingerprint: fingerprintSchema })),
  teams: z.array(z.object({ id: idSchema, name: z.string() })),
});
export type PracticeDto = z.infer<typeof practiceSchema>;
export const practiceListResponseSchema = z.object({ practices: z.array(practiceSchema) });
export type PracticeListResponse = z.infer<typeof practiceListResponseSchema>;

/** Statements from `from` on (at most 200 per page), with the keys of everyone they name. */
export const teamStatementsQuerySchema = z
  .object({ from: z.coerce.number().int().min(0).default(0) })
  .strict();
export const teamStatementsResponseSchema = z.object({
  statements: z.array(z.object({ seq: z.number().int().min(0), signed: z.string() })),
  /** The head when answered: ask again from `seq + 1` of the last statement while below it. */
  headSeq: z.number().int().min(0),
  publicKeys: z.array(
    z.object({ userId: idSchema, fingerprint: fingerprintSchema, publicKey: z.string() }),
  ),
});
export type TeamStatementsResponse = z.infer<typeof teamStatementsResponseSchema>;

export const keyEnvelopeResponseSchema = z.object({
  gen: z.number().int().min(1),
  fingerprint: fingerprintSchema,
  message: z.string(),
});
export type KeyEnvelopeResponse = z.infer<typeof keyEnvelopeResponseSchema>;

export const teamDirectoryQuerySchema = z
  .object({ namePrefix: z.string().trim().min(2).max(100) })
  .strict();

const practiceParams = z.object({ practiceId: idSchema }).strict();
const teamParams = z.object({ teamId: idSchema }).strict();

/** What the server's statement check can answer (the crypto package's codes plus the server's own). */
const statementErrors = [
  'team-statement-malformed',
  'unsupported-format',
  'bad-signature',
  'not-team-admin',
  'team-chain-broken',
  'team-rule-violated',
  'team-key-mismatch',
  'team-head-moved',
  'not-the-signer',
  'fingerprint-mismatch',
  'user-not-found',
  'statement-time',
  'key-envelopes-mismatch',
  'team-key-required',
  ...messageCheckCodes,
] as const;

export const teamEndpoints = {
  createPractice: endpoint({
    method: 'post',
    path: '/practices',
    summary: 'Create a practice; the caller (a doctor) becomes its admin.',
    tag: 'teams',
    auth: 'session',
    body: createPracticeRequestSchema,
    response: practiceSchema,
    status: 201,
    errors: ['doctors-only'],
  }),
  listPractices: endpoint({
    method: 'get',
    path: '/practices',
    summary: 'The practices I administer, with their teams.',
    tag: 'teams',
    auth: 'session',
    response: practiceListResponseSchema,
    status: 200,
  }),
  addPracticeAdmin: endpoint({
    method: 'post',
    path: '/practices/:practiceId/admins',
    summary: 'Make another doctor an admin of the practice (may create teams in it).',
    tag: 'teams',
    auth: 'session',
    params: practiceParams,
    body: practiceAdminRequestSchema,
    response: practiceSchema,
    status: 200,
    errors: ['practice-not-found', 'user-not-found', 'doctors-only', 'already-admin'],
  }),
  removePracticeAdmin: endpoint({
    method: 'delete',
    path: '/practices/:practiceId/admins/:userId',
    summary: 'Remove an admin of the practice (never the last one).',
    tag: 'teams',
    auth: 'session',
    params: z.object({ practiceId: idSchema, userId: idSchema }).strict(),
    status: 204,
    errors: ['practice-not-found', 'not-an-admin', 'last-admin'],
  }),
  createTeam: endpoint({
    method: 'post',
    path: '/practices/:practiceId/teams',
    summary:
      'Create a team: its signed creation statement, team public key and the founder’s key envelope.',
    tag: 'teams',
    auth: 'session',
    params: practiceParams,
    body: createTeamRequestSchema,
    response: teamSchema,
    status: 201,
    errors: ['practice-not-found', 'team-exists', 'practice-mismatch', ...statementErrors],
  }),
  listMyTeams: endpoint({
    method: 'get',
    path: '/teams',
    summary: 'The teams I am a member of.',
    tag: 'teams',
    auth: 'session',
    response: teamListResponseSchema,
    status: 200,
  }),
  findTeams: endpoint({
    method: 'get',
    path: '/team-directory',
    summary: 'Find teams by name prefix (at most 20).',
    tag: 'teams',
    auth: 'session',
    query: teamDirectoryQuerySchema,
    response: teamListResponseSchema,
    status: 200,
  }),
  getTeam: endpoint({
    method: 'get',
    path: '/teams/:teamId',
    summary: 'One team as the server sees it (members, key generations, head).',
    tag: 'teams',
    auth: 'session',
    params: teamParams,
    response: teamSchema,
    status: 200,
    errors: ['team-not-found'],
  }),
  teamStatements: endpoint({
    method: 'get',
    path: '/teams/:teamId/statements',
    summary: 'A page of the team’s signed statements with the public keys of everyone they name.',
    tag: 'teams',
    auth: 'session',
    params: teamParams,
    query: teamStatementsQuerySchema,
    response: teamStatementsResponseSchema,
    status: 200,
    errors: ['team-not-found'],
  }),
  appendTeamStatement: endpoint({
    method: 'post',
    path: '/teams/:teamId/statements',
    summary:
      'Add a member, change a role, remove a member (with the next team key) or rotate the key.',
    tag: 'teams',
    auth: 'session',
    params: teamParams,
    body: appendTeamStatementRequestSchema,
    response: teamSchema,
    status: 201,
    errors: ['team-not-found', ...statementErrors],
  }),
  teamRecords: endpoint({
    method: 'get',
    path: '/teams/:teamId/records',
    summary: 'Records shared with a team I am a current member of, most recently changed first.',
    tag: 'teams',
    auth: 'session',
    params: teamParams,
    query: pageQuerySchema,
    response: recordListResponseSchema,
    status: 200,
    errors: ['team-not-found', 'invalid-cursor'],
  }),
  getTeamKeyEnvelope: endpoint({
    method: 'get',
    path: '/teams/:teamId/key-envelopes/:gen',
    summary: 'My key envelope of one generation of the team key (current members only).',
    tag: 'teams',
    auth: 'session',
    params: z.object({ teamId: idSchema, gen: z.coerce.number().int().min(1) }).strict(),
    response: keyEnvelopeResponseSchema,
    status: 200,
    errors: ['team-not-found', 'key-envelope-not-found'],
  }),
} as const;
