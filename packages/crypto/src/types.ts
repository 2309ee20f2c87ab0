// Branded types (STYLE.md §8): values that must not be mixed up get distinct nominal types,
// so a RecordId can't be passed where a UserId is expected. They are plain strings at runtime.

import type { SignedTreeHead } from './transparency/heads';

declare const brand: unique symbol;
export type Brand<T, B extends string> = T & { readonly [brand]: B };

/** 40 lowercase hex characters: the v4 fingerprint of a primary key. */
export type Fingerprint = Brand<string, 'Fingerprint'>;
export type ArmoredPublicKey = Brand<string, 'ArmoredPublicKey'>;
export type ArmoredPrivateKey = Brand<string, 'ArmoredPrivateKey'>;
export type ArmoredMessage = Brand<string, 'ArmoredMessage'>;
export type UserId = Brand<string, 'UserId'>;
export type RecordId = Brand<string, 'RecordId'>;

const FINGERPRINT_RE = /^[0-9a-f]{40}$/;

/** True for exactly 40 lowercase hex characters (use `parseFingerprint` to normalise other spellings). */
export function isFingerprint(value: unknown): value is Fingerprint {
  return typeof value === 'string' && FINGERPRINT_RE.test(value);
}

/** Fingerprint of a primary key as 40 lowercase hex, plus what a server needs to store with it. */
export interface PublicKeyInfo {
  fingerprint: Fingerprint;
  keyVersion: 4;
  userIds: string[];
  created: Date;
  /** 16 lowercase hex key IDs of the subkeys (or primary) usable for encryption now. */
  encryptionKeyIds: string[];
  /** The key re-armored by openpgp.js: public parts only, normalised. */
  armored: ArmoredPublicKey;
}

/** One top-level OpenPGP packet as seen without decrypting. */
export interface PacketSummary {
  /** OpenPGP packet tag (RFC 9580 §5). */
  tag: number;
  type: PacketTypeName;
  /** Body length in bytes. */
  length: number;
  /** Packet version, for PKESK / SEIPD. */
  version?: number;
  /** PKESK only: 16 lowercase hex key ID the session key is encrypted to ('0000000000000000' = wildcard). */
  keyId?: string;
}

export type PacketTypeName =
  | 'pkesk'
  | 'signature'
  | 'skesk'
  | 'one-pass-signature'
  | 'secret-key'
  | 'public-key'
  | 'secret-subkey'
  | 'compressed'
  | 'sed'
  | 'marker'
  | 'literal'
  | 'trust'
  | 'user-id'
  | 'public-subkey'
  | 'user-attribute'
  | 'seipd'
  | 'aead'
  | 'padding'
  | 'unknown';

export interface MessageSummary {
  format: 'armored' | 'binary';
  /** Size of the input as given (armored characters or binary bytes). */
  size: number;
  packets: PacketSummary[];
  /** Key IDs of the PKESK packets, in message order. */
  recipientKeyIds: string[];
}

/** A sharing grant (DESIGN §6), signed by the sharer. */
export interface Grant {
  v: 1;
  recordId: RecordId;
  granteeUserId: UserId;
  granteeFingerprint: Fingerprint;
  grantedBy: UserId;
  /** ISO 8601. */
  at: string;
  /** ISO 8601; after it the grant no longer counts. */
  expiresAt?: string;
  /** The sharer's latest key-transparency head (DESIGN §14 gossip); absent in older grants. */
  ktHead?: SignedTreeHead;
}

/** KDF parameters as they travel on the wire (DESIGN §3). */
export interface KdfParams {
  algorithm: 'argon2id';
  memoryKiB: number;
  iterations: number;
  parallelism: number;
}
