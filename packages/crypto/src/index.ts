// @medseal/crypto: the only importer of openpgp (STYLE.md §1). Plain async functions; the worker
// face in ./worker wraps the same functions and keeps unlocked keys behind handles.
export type {
  ArmoredMessage,
  ArmoredPrivateKey,
  ArmoredPublicKey,
  Fingerprint,
  Grant,
  KdfParams,
  MessageSummary,
  PacketSummary,
  PacketTypeName,
  PublicKeyInfo,
  RecordId,
  UserId,
} from './types';
export { isFingerprint } from './types';
export { CryptoError, MessageCheckError, isCryptoError } from './errors';
export type {
  CryptoErrorCode,
  KeyErrorCode,
  KtErrorCode,
  MessageCheckCode,
  TeamErrorCode,
} from './errors';
export { fingerprintOf, generateUserKey, publicKeyOf, readPublicKey } from './keys';
export type { GeneratedUserKey, UnlockedKey } from './keys';
export {
  formatFingerprint,
  parseFingerprint,
  safetyNumber,
  safetyNumberQrPayload,
} from './fingerprint';
export {
  addRecipientPacket,
  appendRecipientPacket,
  checkEncryptedTo,
  checkRecipientPacket,
  inspectMessage,
  recipientKeyIdOf,
  recipientPackets,
  splitRecipientPackets,
} from './inspect';
export { createGrant, grantIsCurrent, verifyGrant } from './grants';
export type { GrantInput } from './grants';
export {
  MAX_CONSENT_CHARS,
  consentBook,
  consentBookKey,
  createConsent,
  verifyConsent,
} from './consents';
export type {
  Consent,
  ConsentBookEntry,
  ConsentBookResult,
  ConsentExpectation,
  ConsentInput,
  ConsentStatus,
  ConsentSubject,
  ConsentSubjectKind,
  VerifyConsentResult,
} from './consents';
export { signChallenge, verifyChallengeSignature } from './challenge';
export {
  DEFAULT_KDF,
  MIN_KDF,
  checkKdf,
  createSaltSeed,
  deriveSecrets,
  normaliseEmail,
} from './secrets';
export type { DeriveSecretsOptions, KdfProgress } from './secrets';
export {
  checkLockedPrivateKey,
  checkOwnKey,
  exportPrivateKey,
  lockPrivateKey,
  unlockPrivateKey,
} from './protect';
export { createRecoveryKey, recoverySecretFromWords } from './recovery';
export { createSessionKey } from './messages';
export type { BadSignatureReason, SessionKey } from './messages';
export { MAX_RECORD_MESSAGE, checkRecipientList, openRecord, sealRecord } from './records';
export type {
  ContextField,
  GrantEvidence,
  JsonObject,
  OpenRecordResult,
  RecordEnvelope,
  RecordEnvelopeInput,
  RecordExpectation,
} from './records';
export { REKEY_PURPOSE, dataSha256, rekeyAddsNoReader, sealRekey } from './rekey';
export type { RekeyInput, RekeyStatement } from './rekey';
export { MAX_FILE_BYTES, commitFileKey, openFile, sealFile } from './files';
export type { FileProgress, OpenFileResult } from './files';
export {
  createRecipientPacket,
  createRecipientPacket as shareRecord,
  type FileKeyCommitment,
  type ShareSource,
} from './sharing';
export { openSelfBlob, sealSelfBlob } from './blobs';
export {
  ACCOUNT_STATE_FORMAT,
  MAX_ACCOUNT_STATE_BYTES,
  MAX_ACKNOWLEDGED_ALERTS,
  openAccountState,
  ownKeyOf,
  sealAccountState,
} from './account-state';
export type {
  AccountState,
  AcknowledgedAlert,
  ConsentGiven,
  HighWaterMark,
  OpenAccountStateResult,
  PinnedKey,
  PinnedTeam,
} from './account-state';
export type { OpenSelfBlobResult } from './blobs';
export {
  AUDIT_GENESIS_HASH,
  auditEventHash,
  auditMarkOf,
  checkAuditChain,
  checkAuditTrail,
  signAuditCheckpoint,
  verifyAuditCheckpoint,
} from './audit';
export type { AuditCheckpoint, AuditLink, AuditMark, AuditTrailResult } from './audit';
export { padmeLength } from './padding';
export type { Json } from './encoding';
export { createTabWrappingKey, openKeyForTab, sealKeyForTab } from './tab-session';
export type { TabSealedKey, TabWrappingKey } from './tab-session';
export * from './teams';
export * from './transparency';
