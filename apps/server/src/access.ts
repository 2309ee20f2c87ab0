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
  // A re-key changes no content, so no consent is asked; the use case lets only a current team admin do it.
  rekeyRecord: { kind: 'record', need: 'read' },
  deleteRecord: { kind: 'record', need: 'delete' },
  recordHistory: { kind: 'record', need: 'read' },
  getRecordVersion: { kind: 'record', need: 'read' },
  uploadAttachment: { kind: 'record', need: 'edit' },
  downloadAttachment: { kind: 'record', need: 'read' },
  deleteAttachment: { kind: 'record', need: 'edit' },
  grantAccess: { kind: 'record', need: 'share' },
  // Each grant of the batch is authorized like grantAccess (share on its record) in the use case.
  grantAccessBatch: { kind: 'session' },
  revokeAccess: { kind: 'record', need: 'share' },
  listAccess: { kind: 'record', need: 'read' },
  grantTeamAccess: { kind: 'record', need: 'share' },
  revokeTeamAccess: { kind: 'record', need: 'share' },
  // Packets say only who a file is encrypted to, which any reader sees in the file itself; a
  // team admin re-keying a file (a reader through the team) needs them.
  attachmentPackets: { kind: 'record', need: 'read' },
  // Consents: the patient writes her own; who reads which is checked in components/consents.
  putConsent: { kind: 'session' },
  putTeamConsent: { kind: 'session' },
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
  // Leaf hashes and subject keys (hashes of ids), never the leaves' text: public, for auditors.
  ktLeaves: { kind: 'public' },
  ktUserBinding: { kind: 'session' },
  ktHistory: { kind: 'session' },
  ktMemberships: { kind: 'session' },
  // A team's leaves name a team, hashes and key fingerprints, no person: public, for auditors.
  ktTeamHistory: { kind: 'public' },
};
