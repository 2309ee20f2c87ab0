import { Schema, type Connection } from 'mongoose';
import type { TeamState } from '../../lib/pgp';
import { modelOn } from '../../lib/model';

/**
 * Care teams (DESIGN §13, docs/care-teams.md). The truth is the team's signed statements
 * (`team_statements`, one document per seq: inserting the next one is the commit); the team
 * document and each member's chain of teams joined (`joins.ts`) are what those statements say,
 * rebuilt from them (`log.ts`), and every document is found by `_id` (DESIGN §9).
 */

/** A practice: a named group of teams and the doctors who may create teams in it. */
export interface PracticeDoc {
  _id: string;
  name: string;
  adminIds: string[];
  createdBy: string;
  createdAt: Date;
  /** Bumped on every change of `adminIds` (compare-and-set under a claim). */
  rev: number;
}

const practiceSchema = new Schema<PracticeDoc>(
  {
    _id: { type: String, required: true },
    name: { type: String, required: true },
    adminIds: { type: [String], required: true },
    createdBy: { type: String, required: true },
    createdAt: { type: Date, required: true },
    rev: { type: Number, required: true },
  },
  { versionKey: false, strict: 'throw' },
);

/** One generation of a team key as the server hands it out. */
export interface TeamKeyDoc {
  gen: number;
  fingerprint: string;
  publicKey: string;
}

/** What a team's statements say now: the replayed state plus the team public keys. */
export interface TeamDoc {
  _id: string;
  practiceId: string;
  /** Lower-cased team name, for the directory's prefix search (lists.ts). */
  nameLower: string;
  /** The state after statement `state.seq` (the crypto package's TeamState, stored as is). */
  state: TeamState;
  keys: TeamKeyDoc[];
  createdAt: Date;
  updatedAt: Date;
}

const teamKeySchema = new Schema<TeamKeyDoc>(
  {
    gen: { type: Number, required: true },
    fingerprint: { type: String, required: true },
    publicKey: { type: String, required: true },
  },
  { _id: false },
);

const teamSchema = new Schema<TeamDoc>(
  {
    _id: { type: String, required: true },
    practiceId: { type: String, required: true },
    nameLower: { type: String, required: true },
    state: { type: Schema.Types.Mixed, required: true },
    keys: { type: [teamKeySchema], required: true },
    createdAt: { type: Date, required: true },
    updatedAt: { type: Date, required: true },
  },
  { versionKey: false, strict: 'throw', minimize: false },
);

/**
 * What a share with a team needs of it, as its statements up to `seq` say: one small document
 * per team (`_id` = team id), written by each projection (log.ts) after the team document. A
 * grant is checked against it, not against the member list or the statements, so a share costs
 * the same for a team of 2 and of 500 (issue 13). It is a projection like the team document:
 * whoever uses it first checks that no statement is stored past `seq` (else settles the team).
 */
export interface TeamHeadDoc {
  _id: string;
  seq: number;
  genesis: string;
  name: string;
  practiceName: string;
  /** The current generation of the team key. */
  key: TeamKeyDoc;
  updatedAt: Date;
}

const teamHeadSchema = new Schema<TeamHeadDoc>(
  {
    _id: { type: String, required: true },
    seq: { type: Number, required: true },
    genesis: { type: String, required: true },
    name: { type: String, required: true },
    practiceName: { type: String, required: true },
    key: { type: teamKeySchema, required: true },
    updatedAt: { type: Date, required: true },
  },
  { versionKey: false, strict: 'throw' },
);

/** One signed statement, as the admin sent it. `_id` = `<teamId>:<seq>`: one per position. */
export interface TeamStatementDoc {
  _id: string;
  teamId: string;
  seq: number;
  signed: string;
  /** The signer's user id (the statement says so; it was verified before the insert). */
  by: string;
  /** The team public key a `create`, `remove` or `rotate` names, so the statement alone rebuilds the team. */
  teamPublicKey?: string;
  createdAt: Date;
}

const statementSchema = new Schema<TeamStatementDoc>(
  {
    _id: { type: String, required: true },
    teamId: { type: String, required: true },
    seq: { type: Number, required: true },
    signed: { type: String, required: true },
    by: { type: String, required: true },
    teamPublicKey: { type: String },
    createdAt: { type: Date, required: true },
  },
  { versionKey: false, strict: 'throw' },
);

export const statementId = (teamId: string, seq: number) => `${teamId}:${seq}`;

/**
 * A team key encrypted to one member. `_id` = `<teamId>:<key fingerprint>:<memberId>`: the key
 * fingerprint (not the generation) is in it, so two admins racing to rotate cannot overwrite
 * each other's envelopes; only the statement that lands says which key is the generation.
 */
export interface TeamKeyEnvelopeDoc {
  _id: string;
  teamId: string;
  fingerprint: string;
  memberId: string;
  message: string;
  createdAt: Date;
}

const envelopeSchema = new Schema<TeamKeyEnvelopeDoc>(
  {
    _id: { type: String, required: true },
    teamId: { type: String, required: true },
    fingerprint: { type: String, required: true },
    memberId: { type: String, required: true },
    message: { type: String, required: true },
    createdAt: { type: Date, required: true },
  },
  { versionKey: false, strict: 'throw' },
);

export const envelopeId = (teamId: string, fingerprint: string, memberId: string) =>
  `${teamId}:${fingerprint}:${memberId}`;

export const practiceModel = (c: Connection) => modelOn(c, 'Practice', practiceSchema, 'practices');
export const teamModel = (c: Connection) => modelOn(c, 'Team', teamSchema, 'teams');
export const teamHeadModel = (c: Connection) =>
  modelOn(c, 'TeamHead', teamHeadSchema, 'team_heads');
export const teamStatementModel = (c: Connection) =>
  modelOn(c, 'TeamStatement', statementSchema, 'team_statements');
export const teamKeyEnvelopeModel = (c: Connection) =>
  modelOn(c, 'TeamKeyEnvelope', envelopeSchema, 'team_key_envelopes');
