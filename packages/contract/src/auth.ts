import { z } from 'zod';
import {
  safeText,
  armoredSchema,
  bytes32,
  emailSchema,
  fingerprintSchema,
  idSchema,
  isoDate,
  kdfSchema,
  lockedKeySchema,
  MAX_KEY_CHARS,
  roleSchema,
} from './common';
import { endpoint } from './endpoint';

const lockedKey = lockedKeySchema;

export const authParamsQuerySchema = z.object({ email: emailSchema }).strict();
/** Same shape for known and unknown emails (DESIGN §3: no account enumeration). */
export const authParamsResponseSchema = z.object({ saltSeed: bytes32, kdf: kdfSchema });
export type AuthParamsResponse = z.infer<typeof authParamsResponseSchema>;

export const registerRequestSchema = z
  .object({
    email: emailSchema,
    /** The display name others see (directory, sharing): no control, bidi or invisible characters. */
    name: safeText(z.string().trim().min(1).max(200)),
    role: roleSchema,
    publicKey: armoredSchema(MAX_KEY_CHARS),
    loginSecret: bytes32,
    saltSeed: bytes32,
    kdf: kdfSchema,
    encryptedPrivateKey: lockedKey,
    recoveryEncryptedPrivateKey: lockedKey,
  })
  .strict();
export type RegisterRequest = z.infer<typeof registerRequestSchema>;

export const meSchema = z.object({
  id: idSchema,
  email: z.string(),
  name: z.string(),
  role: roleSchema,
  fingerprint: fingerprintSchema,
  publicKey: z.string(),
  /** A doctor who is listed can be found by name by anyone (issue 15, finding 1). */
  listed: z.boolean().optional(),
});
export type Me = z.infer<typeof meSchema>;

/** What a user may change about their own account. */
export const updateMeRequestSchema = z.object({ listed: z.boolean() }).strict();
export type UpdateMeRequest = z.infer<typeof updateMeRequestSchema>;

/** After login (and register / recovery): who you are, and your locked private key. */
export const sessionStartResponseSchema = z.object({
  user: meSchema,
  encryptedPrivateKey: z.string(),
  sessionId: idSchema,
});
export type SessionStartResponse = z.infer<typeof sessionStartResponseSchema>;

export const loginRequestSchema = z
  .object({
    email: emailSchema,
    loginSecret: bytes32,
    /** "Stay unlocked in this tab": the session cookie then outlives the browser (Max-Age). */
    stayUnlocked: z.boolean().optional(),
  })
  .strict();
export type LoginRequest = z.infer<typeof loginRequestSchema>;

export const changePasswordRequestSchema = z
  .object({
    currentLoginSecret: bytes32,
    newLoginSecret: bytes32,
    newSaltSeed: bytes32,
    kdf: kdfSchema,
    encryptedPrivateKey: lockedKey,
  })
  .strict();
export type ChangePasswordRequest = z.infer<typeof changePasswordRequestSchema>;

export const recoveryStartRequestSchema = z.object({ email: emailSchema }).strict();
export const recoveryStartResponseSchema = z.object({
  challengeId: idSchema,
  /** Text the client signs with the private key it unlocked with the recovery key. */
  challenge: z.string(),
  recoveryEncryptedPrivateKey: z.string(),
  expiresAt: isoDate,
});
export type RecoveryStartResponse = z.infer<typeof recoveryStartResponseSchema>;

export const recoveryCompleteRequestSchema = z
  .object({
    challengeId: idSchema,
    /** Armored detached signature over `challenge`. */
    signature: armoredSchema(MAX_KEY_CHARS),
    newLoginSecret: bytes32,
    newSaltSeed: bytes32,
    kdf: kdfSchema,
    encryptedPrivateKey: lockedKey,
    /**
     * The private key locked under a fresh recovery key (the new kit the client shows). It
     * replaces the old copy: words that were used once stop working (issue 15, finding 9).
     */
    recoveryEncryptedPrivateKey: lockedKey,
  })
  .strict();
export type RecoveryCompleteRequest = z.infer<typeof recoveryCompleteRequestSchema>;

export const sessionInfoSchema = z.object({
  id: idSchema,
  createdAt: isoDate,
  expiresAt: isoDate,
  userAgent: z.string().optional(),
  current: z.boolean(),
});
export const sessionListResponseSchema = z.object({ sessions: z.array(sessionInfoSchema) });
export type SessionListResponse = z.infer<typeof sessionListResponseSchema>;
export const sessionParamsSchema = z.object({ sessionId: idSchema }).strict();

export const authEndpoints = {
  authParams: endpoint({
    method: 'get',
    path: '/auth/params',
    summary:
      'Pre-login parameters (salt seed and KDF); same shape for unknown emails. Needs the CSRF header.',
    tag: 'auth',
    auth: 'public',
    csrf: 'required',
    query: authParamsQuerySchema,
    response: authParamsResponseSchema,
    status: 200,
    errors: ['csrf-header-missing', 'rate-limited'],
  }),
  register: endpoint({
    method: 'post',
    path: '/auth/register',
    summary: 'Create an account and start a session.',
    tag: 'auth',
    auth: 'public',
    body: registerRequestSchema,
    response: sessionStartResponseSchema,
    status: 201,
    errors: [
      'kdf-too-weak',
      'invalid-kdf',
      'email-taken',
      'key-taken',
      'invalid-key',
      'not-public-key',
      'key-expired',
      'key-revoked',
      'no-encryption-subkey',
      'unsupported-key-version',
      'weak-key',
      'not-private-key',
      'key-not-locked',
      'rate-limited',
    ],
  }),
  login: endpoint({
    method: 'post',
    path: '/auth/login',
    summary: 'Log in with the login secret; returns the locked private key.',
    tag: 'auth',
    auth: 'public',
    body: loginRequestSchema,
    response: sessionStartResponseSchema,
    status: 200,
    errors: ['invalid-credentials', 'rate-limited'],
  }),
  logout: endpoint({
    method: 'post',
    path: '/auth/logout',
    summary: 'End this session.',
    tag: 'auth',
    auth: 'session',
    status: 204,
  }),
  me: endpoint({
    method: 'get',
    path: '/auth/me',
    summary: 'The logged-in user.',
    tag: 'auth',
    auth: 'session',
    response: meSchema,
    status: 200,
  }),
  updateMe: endpoint({
    method: 'put',
    path: '/auth/me',
    summary: 'Change my account settings: `listed` (doctors only) makes me findable by name.',
    tag: 'auth',
    auth: 'session',
    body: updateMeRequestSchema,
    response: meSchema,
    status: 200,
    errors: ['only-doctors-listed', 'version-conflict'],
  }),
  listSessions: endpoint({
    method: 'get',
    path: '/auth/sessions',
    summary: 'My open sessions.',
    tag: 'auth',
    auth: 'session',
    response: sessionListResponseSchema,
    status: 200,
  }),
  endSession: endpoint({
    method: 'delete',
    path: '/auth/sessions/:sessionId',
    summary: 'End one of my sessions.',
    tag: 'auth',
    auth: 'session',
    params: sessionParamsSchema,
    status: 204,
    errors: ['session-not-found'],
  }),
  changePassword: endpoint({
    method: 'post',
    path: '/auth/password',
    summary:
      'Change password: new login secret and re-wrapped private key; ends the other sessions.',
    tag: 'auth',
    auth: 'session',
    body: changePasswordRequestSchema,
    status: 204,
    errors: [
      'invalid-credentials',
      'version-conflict',
      'kdf-too-weak',
      'invalid-kdf',
      'invalid-key',
      'not-private-key',
      'key-not-locked',
      'rate-limited',
    ],
  }),
  recoveryStart: endpoint({
    method: 'post',
    path: '/auth/recovery/start',
    summary: 'Start recovery: a challenge and the recovery-locked private key.',
    tag: 'auth',
    auth: 'public',
    body: recoveryStartRequestSchema,
    response: recoveryStartResponseSchema,
    status: 200,
    errors: ['recovery-unavailable', 'rate-limited'],
  }),
  recoveryComplete: endpoint({
    method: 'post',
    path: '/auth/recovery/complete',
    summary:
      'Finish recovery with the signed challenge; sets the new password, ends all sessions, starts a new one.',
    tag: 'auth',
    auth: 'public',
    body: recoveryCompleteRequestSchema,
    response: sessionStartResponseSchema,
    status: 200,
    errors: [
      'challenge-invalid',
      'version-conflict',
      'bad-signature',
      'kdf-too-weak',
      'invalid-kdf',
      'invalid-key',
      'not-private-key',
      'key-not-locked',
      'rate-limited',
    ],
  }),
} as const;
