import { randomBytes } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { serverDir } from './paths';
import { generateUserKey, type GeneratedUserKey } from '@medseal/crypto';
import type { Role, SessionStartResponse } from '@medseal/contract';
import { ApiClient } from './client';

export function fixture(name: string): string {
  return readFileSync(join(serverDir, 'test', 'fixtures', name), 'utf8');
}

export const TEST_KDF = {
  algorithm: 'argon2id',
  memoryKiB: 65536,
  iterations: 3,
  parallelism: 1,
} as const;

export const randomSecret = () => randomBytes(32).toString('base64url');

/** The new-password part of a password change or recovery: secret, salt seed, KDF, re-wrapped key. */
export function newPassword(
  fields: { newLoginSecret?: string; newSaltSeed?: string; encryptedPrivateKey?: string } = {},
) {
  return {
    newLoginSecret: fields.newLoginSecret ?? randomSecret(),
    newSaltSeed: fields.newSaltSeed ?? randomSecret(),
    kdf: TEST_KDF,
    encryptedPrivateKey: fields.encryptedPrivateKey ?? fixture('locked-private-key.asc'),
  };
}

/** The body fields of a recovery's end: a new password and a new recovery copy of the key. */
export function recoveredPassword(
  fields: { newLoginSecret?: string; recoveryEncryptedPrivateKey?: string } = {},
) {
  const { recoveryEncryptedPrivateKey, ...password } = fields;
  return {
    ...newPassword(password),
    recoveryEncryptedPrivateKey: recoveryEncryptedPrivateKey ?? fixture('locked-private-key.asc'),
  };
}

export interface TestUser {
  id: string;
  email: string;
  name: string;
  role: Role;
  fingerprint: string;
  publicKey: string;
  loginSecret: string;
  key: GeneratedUserKey;
  api: ApiClient;
}

let counter = 0;

/** The register body for a new user with a freshly generated key. */
export async function registrationFor(options: { name: string; role?: Role; email?: string }) {
  const email =
    options.email ??
    `${options.name.toLowerCase().replace(/\W/g, '')}-${Date.now()}-${counter++}@example.org`;
  const key = await generateUserKey({ name: options.name, email });
  const loginSecret = randomSecret();
  return {
    key,
    body: {
      email,
      name: options.name,
      role: options.role ?? 'patient',
      publicKey: key.publicKey as string,
      loginSecret,
      saltSeed: randomSecret(),
      kdf: TEST_KDF,
      encryptedPrivateKey: fixture('locked-private-key.asc'),
      recoveryEncryptedPrivateKey: fixture('locked-private-key.asc'),
    },
  };
}

/** Registers a user (which logs them in) and returns them with their own API client. */
export async function registerUser(
  baseUrl: string,
  options: { name: string; role?: Role; email?: string },
): Promise<TestUser> {
  const { key, body } = await registrationFor(options);
  const api = new ApiClient(baseUrl);
  const res = await api.post<SessionStartResponse>('/auth/register', body);
  if (res.status !== 201)
    throw new Error(`register failed: ${res.status} ${JSON.stringify(res.body)}`);
  return {
    id: res.body.user.id,
    email: body.email,
    name: body.name,
    role: body.role,
    fingerprint: res.body.user.fingerprint,
    publicKey: res.body.user.publicKey,
    loginSecret: body.loginSecret,
    key,
    api,
  };
}

/** A new record id as the client makes it (128 random bits). */
export const newRecordId = () => randomBytes(16).toString('base64url');
