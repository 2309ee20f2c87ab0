import { Schema, type Connection, type mongo } from 'mongoose';
import type { KdfParams, Role } from '@medseal/contract';
import { withClaim, type ClaimStore } from '../../lib/claims';
import { sha256Hex } from '../../lib/ids';
import { modelOn } from '../../lib/model';

/** A stored account. Secrets in it are useless without the server secrets (DESIGN §3). */
export interface UserDoc {
  _id: string;
  email: string;
  name: string;
  /** Lower-cased name for prefix search. */
  nameLower: string;
  role: Role;
  publicKey: string;
  /** Computed by the server from `publicKey`; never taken from the client. */
  fingerprint: string;
  keyVersion: number;
  saltSeed: string;
  kdf: KdfParams;
  /** Argon2id PHC string of the login secret, peppered with a server secret. */
  loginHash: string;
  /** AES-256-GCM sealed, password-locked private key (see lib/sealing.ts). */
  sealedPrivateKey: Buffer | mongo.Binary;
  /** AES-256-GCM sealed, recovery-key-locked private key. */
  sealedRecoveryKey: Buffer | mongo.Binary;
  createdAt: Date;
  passwordChangedAt: Date;
  /** A doctor who chose to be found by name by everyone (absent: not listed). */
  listed?: boolean;
  /**
   * The nonce her key leaf commits to her email under (`emailCommitment`, 128 random bits):
   * given only with an answer to a lookup by that email. Absent only on an account from before
   * version 2 leaves until the migration `kt-email-commitment-1` logs one for it.
   */
  emailNonce?: string;
}

const userSchema = new Schema<UserDoc>(
  {
    _id: { type: String, required: true },
    email: { type: String, required: true, unique: true },
    name: { type: String, required: true },
    nameLower: { type: String, required: true, index: true },
    role: { type: String, required: true, enum: ['patient', 'doctor'] },
    publicKey: { type: String, required: true },
    fingerprint: { type: String, required: true, index: true },
    keyVersion: { type: Number, required: true },
    saltSeed: { type: String, required: true },
    kdf: { type: Object, required: true },
    loginHash: { type: String, required: true },
    sealedPrivateKey: { type: Buffer, required: true },
    sealedRecoveryKey: { type: Buffer, required: true },
    createdAt: { type: Date, required: true },
    passwordChangedAt: { type: Date, required: true },
    listed: { type: Boolean },
    emailNonce: { type: String },
  },
  { versionKey: false, strict: 'throw' },
);

export function userModel(connection: Connection) {
  return modelOn(connection, 'User', userSchema, 'users');
}
export type UserModel = ReturnType<typeof userModel>;

/**
 * Sets fields of the user `read`, only while no other write of that user runs and only if her
 * login hash is still the one read. FerretDB v1 writes an updated document back whole, so two
 * racing updates of one user undo each other's fields: a setting saved while the password
 * changed put the old password (and, after a recovery, the old recovery copy) back (review,
 * 2026-12-07). Every writer of a user takes the claim `user:<id>:<hash read>` (lib/claims.ts).
 *
 * @returns false when the password changed since `read`, or another write of her holds the
 *   claim: the caller reads her again and decides.
 */
export async function setUserFields(
  s: ClaimStore & { models: { users: UserModel } },
  read: Pick<UserDoc, '_id' | 'loginHash'>,
  fields: Partial<Omit<UserDoc, '_id'>>,
): Promise<boolean> {
  const { users } = s.models;
  const unchanged = async () =>
    (await users.findById(read._id, { loginHash: 1 }).lean())?.loginHash === read.loginHash;
  const result = await withClaim(
    s,
    `user:${read._id}:${sha256Hex(read.loginHash)}`,
    unchanged,
    () => users.updateOne({ _id: read._id, loginHash: read.loginHash }, { $set: fields }),
  );
  return result?.matchedCount === 1;
}
