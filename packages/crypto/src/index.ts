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
export type { CryptoErrorCode, KeyErrorCode, MessageCheckCode } from './errors';
export { fingerprintOf, generateUserKey, publicKeyOf, readPublicKey } from './keys';
export type { GeneratedUserKey, UnlockedKey } from './keys';
export { formatFingerprint, parseFingerprint, safetyNumber, safetyNumberQrPayload } from './fingerprint';
export { addRecipientPacket, checkEncryptedTo, checkRecipientPacket, inspectMessage } from './inspect';
export { createGrant, grantIsCurrent, verifyGrant } from './grants';
export type { GrantInput } from './grants';
export { signChallenge, verifyChallengeSignature } from './challenge';
