import {
  addRecipientPacket,
  appendRecipientPacket,
  applyTeamStatement,
  checkTeamPublicKey,
  peekTeamStatement,
  type TeamKeyRef,
  type TeamState,
  checkEncryptedTo,
  checkKdf,
  checkLockedPrivateKey,
  checkRecipientPacket,
  inspectMessage,
  readPublicKey,
  recipientKeyIdOf,
  recipientPackets,
  splitRecipientPackets,
  verifyChallengeSignature,
  verifyAuditCheckpoint,
  verifyConsent,
  verifyGrant,
  verifyTeamGrant,
  type AuditCheckpoint,
  type Consent,
  type ConsentExpectation,
} from '@medseal/crypto';
import { AppError } from './errors';

/** Team types components store and pass on (components reach crypto only through this file). */
export type { TeamKeyRef, TeamState, TeamStatement } from '@medseal/crypto';

/**
 * The server's only door to OpenPGP: thin wrappers over @medseal/crypto that turn its
 * CryptoError codes into 400 AppErrors with the same stable code (the server never parses
 * OpenPGP itself and never decrypts).
 */

function isCryptoFailure(error: unknown): error is Error & { code: string } {
  return (
    error instanceof Error &&
    (error.name === 'CryptoError' || error.name === 'MessageCheckError') &&
    typeof (error as { code?: unknown }).code === 'string'
  );
}

/** Codes that are not a malformed request but a refusal of who is asking. */
const FORBIDDEN_CODES = new Set(['not-team-admin']);

async function asBadRequest<T>(what: string, run: () => Promise<T>): Promise<T> {
  try {
    return await run();
  } catch (error) {
    if (isCryptoFailure(error)) {
      const status = FORBIDDEN_CODES.has(error.code) ? 403 : 400;
      throw new AppError({
        status,
        code: error.code,
        message: `${what}: ${error.message}`,
        cause: error,
        details: detailsOf(error),
      });
    }
    throw error;
  }
}

/** Which team rule a statement broke (`team-rule-violated`), for the client to say so. */
function detailsOf(error: Error & { code: string }): unknown {
  return error.code.startsWith('team-') ? (error as { details?: unknown }).details : undefined;
}

/**
 * The client's own KDF floor (`@medseal/crypto` MIN_KDF), so no account is made or re-keyed
 * with parameters its clients would refuse: one floor for both sides (issue 15, finding 8).
 *
 * @throws AppError 400 `kdf-too-weak` or `invalid-kdf` (above the client's ceiling).
 */
export function checkKdfParams(kdf: unknown): Promise<unknown> {
  return asBadRequest('KDF parameters', async () => checkKdf(kdf));
}

/** @throws AppError 400 with the key error code (`invalid-key`, `key-expired`, ...). */
export function checkPublicKey(armored: string) {
  return asBadRequest('The public key was refused', () => readPublicKey(armored));
}

/**
 * A private key the client sends for storage must be locked: the server must never hold one it
 * could use (DESIGN §3), even from a faulty client.
 *
 * @throws AppError 400 `key-not-locked`, `not-private-key`, `invalid-key`.
 */
export function checkLockedKey(armored: string) {
  return asBadRequest('The private key was refused', () => checkLockedPrivateKey(armored));
}

/** @throws AppError 400 with the message check code (`not-armored`, `recipient-mismatch`, ...). */
export function checkMessage(
  message: string | Uint8Array,
  recipientPublicKeys: string[],
  maxBytes: number,
) {
  return asBadRequest('The message was refused', () =>
    checkEncryptedTo(message, recipientPublicKeys, { maxBytes }),
  );
}

/** @throws AppError 400 `recipient-mismatch` / `not-a-message`. */
export function checkPacketFor(pkesk: string, recipientPublicKey: string) {
  return asBadRequest('The recipient packet was refused', () =>
    checkRecipientPacket(pkesk, recipientPublicKey),
  );
}

/**
 * Splices a PKESK into a stored record message (no decryption, no re-encryption; attachments
 * keep their packets apart, see `addPacketTo`). When the message already has a packet for one
 * of `recipientKeyIds` (someone revoked and granted again before the re-keyed version was
 * written), it is returned unchanged.
 *
 * @throws AppError 400.
 */
export async function splicePacket(
  message: string,
  pkesk: string,
  recipientKeyIds: readonly string[],
): Promise<string> {
  const summary = await asBadRequest('The stored message could not be read', () =>
    inspectMessage(message, { maxBytes: Number.MAX_SAFE_INTEGER }),
  );
  if (summary.recipientKeyIds.some((id) => recipientKeyIds.includes(id))) return message;
  // Uninitialised memory for the new message: addRecipientPacket overwrites every byte before it
  // returns, so the zero-fill would be wasted work.
  return asBadRequest('The recipient packet could not be added', () =>
    addRecipientPacket(message, pkesk, { allocate: (length) => Buffer.allocUnsafeSlow(length) }),
  );
}

/**
 * `splicePacket` for a message stored as packets + body (`splitMessage`): the packet list with
 * `pkesk` added, or as it is when it already has a packet for one of `recipientKeyIds`.
 * @throws AppError 400.
 */
export function addPacketTo(
  packets: readonly string[],
  pkesk: string,
  recipientKeyIds: readonly string[],
): Promise<string[]> {
  return asBadRequest('The recipient packet could not be added', async () => {
    if (packets.some((p) => recipientKeyIds.includes(recipientKeyIdOf(p)))) return [...packets];
    return appendRecipientPacket(packets, pkesk);
  });
}

/**
 * The key id a recipient packet a client sent is for.
 * @throws AppError 400 `not-a-message` (or the packet check's own code) when it is not one.
 */
export function packetKeyId(pkesk: string): Promise<string> {
  return asBadRequest('The recipient packet was refused', async () => recipientKeyIdOf(pkesk));
}

/** `packets` (base64url PKESKs, as stored for a file) without those addressed to one of `keyIds`. */
export function packetsNotFor(packets: readonly string[], keyIds: readonly string[]): string[] {
  return packets.filter((p) => !keyIds.includes(recipientKeyIdOf(p)));
}

/**
 * A checked binary message cut into its session key packets and the rest (a view, not a copy).
 * @throws AppError 400 with the message check code.
 */
export function splitMessage(
  message: Uint8Array,
): Promise<{ packets: string[]; body: Uint8Array }> {
  return asBadRequest('The message could not be read', async () => splitRecipientPackets(message));
}

/** @throws AppError 400 `bad-signature`. */
export function checkChallengeSignature(input: {
  challenge: string;
  signature: string;
  publicKey: string;
}) {
  return asBadRequest('The challenge signature was refused', () => verifyChallengeSignature(input));
}

/** Verifies a signed grant; returns the grant or throws AppError 400 `bad-signature`. */
export async function checkGrant(input: { signedGrant: string; signerPublicKey: string }) {
  const result = await asBadRequest('The grant was refused', () => verifyGrant(input));
  if (result.status !== 'verified') {
    throw new AppError({
      status: 400,
      code: 'bad-signature',
      message: 'The grant is not signed by the sharer.',
    });
  }
  return result.grant;
}

/**
 * The checkpoint of a record's access trail its owner signed (DESIGN §12 "Audit").
 * @throws AppError 400 `bad-checkpoint` when it is not signed by `ownerPublicKey`.
 */
export async function checkAuditCheckpoint(input: {
  signedCheckpoint: string;
  ownerPublicKey: string;
}): Promise<AuditCheckpoint> {
  const checkpoint = await verifyAuditCheckpoint({
    signed: input.signedCheckpoint,
    ownerPublicKey: input.ownerPublicKey,
  });
  if (!checkpoint)
    throw new AppError({
      status: 400,
      code: 'bad-checkpoint',
      message: 'The checkpoint is not signed by the record’s owner.',
    });
  return checkpoint;
}

/** The access trail's links: the hash clients recompute, so the server links exactly what they check. */
export { AUDIT_GENESIS_HASH, auditEventHash, checkAuditChain } from '@medseal/crypto';

/**
 * Verifies a consent statement with the patient's registered key against what the server knows
 * (the subject's registered fingerprint, the `seq` after the stored one). A withdrawal is taken
 * even when it names a key the subject no longer has: taking a right away is never refused.
 *
 * @throws AppError 400 `bad-signature`, `consent-wrong-patient`, `consent-wrong-subject`,
 *   `fingerprint-mismatch`; 409 `consent-replayed` (not newer than the stored statement).
 */
export async function checkConsent(input: {
  signedConsent: string;
  patientPublicKey: string;
  expect: ConsentExpectation;
}): Promise<Consent> {
  const result = await asBadRequest('The consent was refused', () => verifyConsent(input));
  switch (result.status) {
    case 'valid':
    case 'withdrawn':
      return result.consent;
    case 'wrong-fingerprint':
      if (
        result.consent.withdrawnAt !== undefined &&
        result.consent.seq >= (input.expect.minSeq ?? 1)
      )
        return result.consent;
      throw new AppError({
        status: 400,
        code: 'fingerprint-mismatch',
        message: "The consent names another key than the doctor's registered one.",
      });
    case 'replayed':
      throw new AppError({
        status: 409,
        code: 'consent-replayed',
        message: 'A newer statement about this person is stored; sign a new one.',
      });
    case 'wrong-patient':
      throw new AppError({
        status: 400,
        code: 'consent-wrong-patient',
        message: 'The consent is for another patient.',
      });
    case 'wrong-subject':
      throw new AppError({
        status: 400,
        code: 'consent-wrong-subject',
        message: 'The consent names another person or team.',
      });
    case 'bad-signature':
      throw new AppError({
        status: 400,
        code: 'bad-signature',
        message: 'The consent is not signed by the patient.',
      });
  }
}

/** Verifies a signed team grant; returns the grant or throws AppError 400 `bad-signature`. */
export async function checkTeamGrant(input: { signedGrant: string; signerPublicKey: string }) {
  const result = await asBadRequest('The team grant was refused', () => verifyTeamGrant(input));
  if (result.status !== 'verified') {
    throw new AppError({
      status: 400,
      code: 'bad-signature',
      message: 'The team grant is not signed by the sharer.',
    });
  }
  return result.grant;
}

/** The PKESK packets (base64url) of a stored binary message. */
export function recipientPacketsOf(message: Uint8Array): string[] {
  return recipientPackets(message);
}

/**
 * What a signed team statement claims, before its signature is checked: only to find the
 * signer's stored key.
 * @throws AppError 400 `team-statement-malformed`, `unsupported-format`.
 */
export function peekStatement(signed: string) {
  return asBadRequest('The team statement was refused', () => peekTeamStatement(signed));
}

/**
 * The team's rules on the next statement (the same function every client replays with).
 * @throws AppError 403 `not-team-admin`; 400 `bad-signature`, `team-chain-broken`,
 * `team-rule-violated` (details.rule), `team-statement-malformed`, `unsupported-format`.
 */
export function applyStatement(input: {
  state: TeamState | null;
  signed: string;
  signerPublicKey: string;
  teamId?: string;
}) {
  return asBadRequest('The team statement was refused', () => applyTeamStatement(input));
}

/** @throws AppError 400 `team-key-mismatch` and the key codes. */
export function checkTeamKey(publicKey: string, expected: TeamKeyRef) {
  return asBadRequest('The team key was refused', () =>
    checkTeamPublicKey({ publicKey, expected }),
  );
}

/**
 * Key transparency (DESIGN §14): the log's hashing, proof plans and head signing come from
 * @medseal/crypto so the server builds exactly what clients verify.
 */
export {
  auditTeamLeaves,
  bindingLeafHash,
  checkHeadUpdate,
  consistencyPlan,
  emailCommitment,
  EMPTY_MAP_ROOT,
  encodeBinding,
  extendFrontier,
  foldRange,
  inclusionPlan,
  keyIdentityOf,
  logPublicKeyOf,
  mapInsert,
  mapKey,
  mapLookup,
  mapValueAfter,
  MemoryMap,
  memberSubject,
  nodeHash,
  parseBinding,
  rootPlan,
  signTreeHead,
  subjectOf,
  teamMemberBindingOf,
  teamStatementBindingOf,
  teamStatementHash,
  teamSubject,
  USER_KEY_BINDING_VERSION,
  verifyTreeHead,
  type MapEntry,
  type MapNode,
  type MapProof,
  type NodeId,
  type ProofStep,
  type SignedTreeHead,
  type UserKeyBinding,
} from '@medseal/crypto';
