import type { EndpointName } from '@medseal/contract';
import type { AccessRule } from './lib/routing';

/**
 * Who may call what: the one access table. Record routes name what they need of the
 * caller's role on the record (components/records/access.ts ROLE_MAY). The permission
 * matrix tests are generated from this table; an endpoint missing here is refused (403).
 */
export const accessRules: Record<EndpointName, AccessRule> = {
  authParams: { kind: 'public' },
  register: { kind: 'public' },
  login: { kind: 'public' },
  recoveryStart: { kind: 'public' },
  recoveryComplete: { kind: 'public' },
  logout: { kind: 'session' },
  me: { kind: 'session' },
  updateMe: { kind: 'session' },
  listSessions: { kind: 'session' },
  endSession: { kind: 'session' },
  changePassword: { kind: 'session' },
  findUsers: { kind: 'session' },
  getUser: { kind: 'session' },
  createRecord: { kind: 'session' },
  listRecords: { kind: 'session' },
  getRecord: { kind: 'record', need: 'read' },
  updateRecord: { kind: 'record', need: 'edit' },
  deleteRecord: { kind: 'record', need: 'delete' },
  recordHistory: { kind: 'record', need: 'read' },
  getRecordVersion: { kind: 'record', need: 'read' },
  uploadAttachment: { kind: 'record', need: 'edit' },
  downloadAttachment: { kind: 'record', need: 'read' },
  deleteAttachment: { kind: 'record', need: 'edit' },
  grantAccess: { kind: 'record', need: 'share' },
  revokeAccess: { kind: 'record', need: 'share' },
  listAccess: { kind: 'record', need: 'read' },
  grantTeamAccess: { kind: 'record', need: 'share' },
  revokeTeamAccess: { kind: 'record', need: 'share' },
  attachmentPackets: { kind: 'record', need: 'share' },
  // Consents: the patient writes her own; who reads which is checked in components/consents.
  putConsent: { kind: 'session' },
  listConsents: { kind: 'session' },
  getConsent: { kind: 'session' },
  getContacts: { kind: 'session' },
  putContacts: { kind: 'session' },
  deleteContacts: { kind: 'session' },
  getAccountState: { kind: 'session' },
  putAccountState: { kind: 'session' },
  recordAudit: { kind: 'record', need: 'audit' },
  putAuditCheckpoint: { kind: 'record', need: 'audit' },
  live: { kind: 'session' },
  // Care teams: practice admins, team admins (by the signed statements) and members are checked
  // in components/teams; a team's statements and public keys are public to every session.
  createPractice: { kind: 'session' },
  listPractices: { kind: 'session' },
  addPracticeAdmin: { kind: 'session' },
  removePracticeAdmin: { kind: 'session' },
  createTeam: { kind: 'session' },
  listMyTeams: { kind: 'session' },
  findTeams: { kind: 'session' },
  getTeam: { kind: 'session' },
  teamStatements: { kind: 'session' },
  appendTeamStatement: { kind: 'session' },
  getTeamKeyEnvelope: { kind: 'session' },
  // Current members only (by the team's statements), checked in the use case: 404 for others.
  teamRecords: { kind: 'session' },
  // Key transparency: heads and consistency proofs are hashes only, for any auditor; leaves name
  // people (emails), so they need a session; a history is the caller's own.
  ktHead: { kind: 'public' },
  ktConsistency: { kind: 'public' },
  ktUserBinding: { kind: 'session' },
  ktHistory: { kind: 'session' },
};
