import { createHmac, randomBytes } from 'node:crypto';
import { setTimeout as sleep } from 'node:timers/promises';
import type { Request, Response } from 'express';
import type {
  AuthParamsResponse,
  ChangePasswordRequest,
  KdfParams,
  LoginRequest,
  Me,
  RecoveryCompleteRequest,
  RecoveryStartResponse,
  RegisterRequest,
  SessionListResponse,
  SessionStartResponse,
  UpdateMeRequest,
} from '@medseal/contract';
import { AppError } from '../../lib/errors';
import { newId } from '../../lib/ids';
import {
  checkChallengeSignature,
  checkKdfParams,
  checkLockedKey,
  checkPublicKey,
} from '../../lib/pgp';
import { toBuffer } from '../../lib/bytes';
import type { AuthContext } from '../../lib/routing';
import { seal, unseal } from '../../lib/sealing';
import { cacheTag, type Services } from '../../services';
import { logUserKey, newEmailNonce } from '../transparency/use-cases';
import { setUserFields, type UserDoc } from '../users/model';
import { giveBackUserNames, takeUserName, userBy, type UserName } from '../users/lookups';
import { dummyHash, hashLoginSecret, verifyLoginSecret } from './passwords';
import { loginFailureKey, rememberDevice } from './devices';
import { clearSessionCookie, startSession } from './sessions';
import { isDuplicateKey } from '../../lib/db';

/** The KDF parameters handed out for unknown emails: the protocol default (DESIGN §3). */
export const DEFAULT_KDF: KdfParams = {
  algorithm: 'argon2id',
  memoryKiB: 64 * 1024,
  iterations: 3,
  parallelism: 1,
};

const RECOVERY_CHALLENGE_MS = 5 * 60 * 1000;

const invalidCredentials = () =>
  new AppError({
    status: 401,
    code: 'invalid-credentials',
    message: 'The email or password is wrong.',
  });

const emailTaken = () =>
  new AppError({ status: 409, code: 'email-taken', message: 'An account with this email exists.' });

const sealContext = (userId: string, purpose: 'private-key' | 'recovery-key') =>
  `${purpose}/${userId}`;

export function toMe(user: UserDoc): Me {
  return {
    id: user._id,
    email: user.email,
    name: user.name,
    role: user.role,
    fingerprint: user.fingerprint,
    publicKey: user.publicKey,
    listed: user.listed === true,
  };
}

/**
 * Account settings. Only doctors may be listed (found by name by everyone): a patient is
 * found by exact email only (issue 15, finding 1).
 *
 * @throws AppError 403 `only-doctors-listed`.
 */
export async function updateMe(s: Services, userId: string, body: UpdateMeRequest): Promise<Me> {
  for (;;) {
    const user = await currentUser(s, userId);
    if (body.listed && user.role !== 'doctor') {
      throw new AppError({
        status: 403,
        code: 'only-doctors-listed',
        message: 'Only doctors can be listed in the directory.',
      });
    }
    // Her password changed meanwhile: read her again.
    if (await setWhilePasswordIs(s, user, { listed: body.listed }))
      return toMe({ ...user, listed: body.listed });
  }
}

/**
 * How long a user's write waits for her claim while a write of hers in another server process
 * holds it, and the longest pause between tries (random, so racing writers do not keep meeting).
 */
const USER_WRITE_WAIT_MS = 2_000;
const USER_WRITE_PAUSE_MS = 30;

/**
 * Sets fields of the user as read (setUserFields). Her writes in this process take turns
 * (`userWrites`), so only another process's write can hold her claim; this one tries again
 * while it does.
 *
 * @returns false when her password changed since `read`.
 * @throws AppError 409 `version-conflict` when her claim stays taken.
 */
function setWhilePasswordIs(
  s: Services,
  read: UserDoc,
  fields: Partial<Omit<UserDoc, '_id'>>,
): Promise<boolean> {
  return s.userWrites.run(read._id, async () => {
    const until = Date.now() + USER_WRITE_WAIT_MS;
    while (Date.now() < until) {
      if (await setUserFields(s, read, fields)) return true;
      if ((await currentUser(s, read._id)).loginHash !== read.loginHash) return false;
      await sleep(Math.random() * USER_WRITE_PAUSE_MS);
    }
    throw new AppError({
      status: 409,
      code: 'version-conflict',
      message: 'Your account is being changed elsewhere; try again.',
    });
  });
}

/**
 * Pre-login parameters. An unknown email gets a deterministic fake seed (HMAC of the email
 * under a server secret) and the default KDF: the same shape, stable across calls, and the
 * same single database lookup as a known one (DESIGN §3).
 */
export async function authParams(
  s: Services,
  email: string,
  ip: string,
): Promise<AuthParamsResponse> {
  // Per address only: counted per account, any web page could exhaust a victim's account
  // with image tags (issue 15, finding 3). The endpoint also needs the CSRF header.
  await s.limiter.hit(`params:ip:${ip}`, { limit: s.settings.rateLimits.paramsPerIp });
  const user = await userBy(s.models, { kind: 'email', email });
  if (user) return { saltSeed: user.saltSeed, kdf: user.kdf };
  const fake = createHmac('sha256', s.settings.secrets.fakeSeedKey)
    .update(`medseal/v1/fake-seed/${email}`)
    .digest();
  return { saltSeed: fake.toString('base64url'), kdf: DEFAULT_KDF };
}

async function sessionStart(
  s: Services,
  user: UserDoc,
  req: Request,
  res: Response,
  stayUnlocked = false,
): Promise<SessionStartResponse> {
  // A password change or recovery that landed while this login was checked ends the sessions
  // there were then: one started with the old password after it must not outlive it.
  const stillCurrent = async () =>
    (await s.models.users.findById(user._id, { loginHash: 1 }).lean())?.loginHash ===
    user.loginHash;
  const sessionId = await startSession(s, {
    userId: user._id,
    req,
    res,
    stayUnlocked,
    stillCurrent,
  });
  if (sessionId === null) throw invalidCredentials();
  rememberDevice(s, req, res, user.email);
  const encryptedPrivateKey = unseal(
    s.settings.secrets.keySealingKey,
    toBuffer(user.sealedPrivateKey),
    sealContext(user._id, 'private-key'),
  );
  return { user: toMe(user), encryptedPrivateKey, sessionId };
}

/** @throws AppError 400 `kdf-too-weak`, 409 `email-taken` / `key-taken`, 400 key codes (`key-not-locked` for an unprotected private key), 429. */
export async function register(
  s: Services,
  body: RegisterRequest,
  ctx: { ip: string; req: Request; res: Response },
): Promise<SessionStartResponse> {
  await s.limiter.hit(`register:ip:${ctx.ip}`, { limit: s.settings.rateLimits.registerPerIp });
  await checkKdfParams(body.kdf);
  const key = await checkPublicKey(body.publicKey);
  await checkLockedKey(body.encryptedPrivateKey);
  await checkLockedKey(body.recoveryEncryptedPrivateKey);
  const loginHash = await hashLoginSecret(s.settings, body.loginSecret);
  const id = newId();
  // The email, then the key, are taken by inserting their lookups (users/lookups.ts) before
  // the user is stored: of racing registrations only one inserts each. One that dies between
  // leaves lookups naming no user, which find nobody and are taken back after a minute.
  const email: UserName = { kind: 'email', email: body.email };
  const fingerprint: UserName = { kind: 'key', fingerprint: key.fingerprint };
  if (!(await takeUserName(s.models, email, id))) throw emailTaken();
  // One account per key: a second account under someone's public key would show their
  // fingerprint and safety number beside another name (DESIGN §7).
  if (!(await takeUserName(s.models, fingerprint, id))) {
    await giveBackUserNames(s.models, [email], id);
    throw new AppError({
      status: 409,
      code: 'key-taken',
      message: 'An account with this public key exists.',
    });
  }
  const now = new Date();
  const sealingKey = s.settings.secrets.keySealingKey;
  const user: UserDoc & Required<Pick<UserDoc, 'emailNonce'>> = {
    _id: id,
    email: body.email,
    name: body.name,
    nameLower: body.name.toLowerCase(),
    role: body.role,
    publicKey: key.armored,
    fingerprint: key.fingerprint,
    keyVersion: key.keyVersion,
    saltSeed: body.saltSeed,
    kdf: body.kdf,
    loginHash,
    sealedPrivateKey: seal(sealingKey, body.encryptedPrivateKey, sealContext(id, 'private-key')),
    sealedRecoveryKey: seal(
      sealingKey,
      body.recoveryEncryptedPrivateKey,
      sealContext(id, 'recovery-key'),
    ),
    createdAt: now,
    passwordChangedAt: now,
    emailNonce: newEmailNonce(),
  };
  try {
    // Logged before the account exists: no one can be handed a key the log does not hold. An
    // account that then fails to be created leaves a binding for an id nobody has.
    await logUserKey(s, user, now);
    // The unique email index still refuses a user stored by a process of the release before
    // lookups (a rolling deploy) since this one took the email.
    await s.models.users.create(user);
  } catch (error) {
    await giveBackUserNames(s.models, [email, fingerprint], id).catch(() => undefined);
    throw isDuplicateKey(error) ? emailTaken() : error;
  }
  return sessionStart(s, user, ctx.req, ctx.res);
}

/** Past the per-client failure limit, one more try after 1 s, then 2 s, 4 s, ... */
const LOGIN_BACKOFF = { baseMs: 1000 };

/**
 * Login. Unknown emails cost the same Argon2id verification as known ones and get the
 * same answer. Every attempt counts per IP. Failures count per account and client
 * (devices.ts): a browser that logged in to the account before has its own count, every other
 * client shares one; past the limit each further try waits twice as long as the one before,
 * and a failure stops counting one window after it happened.
 *
 * @throws AppError 401 `invalid-credentials`, 429 `rate-limited`.
 */
export async function login(
  s: Services,
  body: LoginRequest,
  ctx: { ip: string; req: Request; res: Response },
): Promise<SessionStartResponse> {
  const limits = s.settings.rateLimits;
  await s.limiter.hit(`login:ip:${ctx.ip}`, { limit: limits.loginPerIp });
  // Counted as a failure until it succeeds, so parallel guesses cannot all pass the limit.
  const release = await s.limiter.reserve(loginFailureKey(s, ctx.req, body.email), {
    limit: limits.loginFailuresPerAccount,
    backoff: LOGIN_BACKOFF,
  });
  const user = await userBy(s.models, { kind: 'email', email: body.email });
  const ok = user
    ? await verifyLoginSecret(s.settings, user.loginHash, body.loginSecret)
    : (await verifyLoginSecret(s.settings, await dummyHash(s.settings), body.loginSecret)) && false;
  if (!user || !ok) throw invalidCredentials();
  await release();
  return sessionStart(s, user, ctx.req, ctx.res, body.stayUnlocked === true);
}

/**
 * Ends this session. Clear-Site-Data also tells the browser to drop this origin's cache — not
 * its storage: IndexedDB holds the device's high-water mark of the account state
 * (DESIGN §12), which must outlive a logout (and the web app logs out before every unlock);
 * the app deletes its "stay unlocked" copy of the key itself (crypto/tabVault.ts).
 */
export async function logout(s: Services, auth: AuthContext, res: Response): Promise<void> {
  await s.models.sessions.deleteOne({ _id: auth.sessionKey });
  await s.feed.publish([cacheTag.user(auth.userId)]);
  clearSessionCookie(s, res);
  // Not "cookies": the session cookie is cleared above, and the known-device cookie stays.
  res.set('Clear-Site-Data', '"cache"');
}

export async function currentUser(s: Services, userId: string): Promise<UserDoc> {
  const user = await s.models.users.findById(userId).lean();
  if (!user) throw new AppError({ status: 401, code: 'unauthenticated', message: 'Log in first.' });
  return user;
}

export async function listSessions(
  s: Services,
  auth: { userId: string; sessionId: string },
): Promise<SessionListResponse> {
  const sessions = await s.models.sessions
    .find({ userId: auth.userId, expiresAt: { $gt: new Date() } })
    .sort({ createdAt: -1 })
    .lean();
  return {
    sessions: sessions.map((x) => ({
      id: x.publicId,
      createdAt: x.createdAt.toISOString(),
      expiresAt: x.expiresAt.toISOString(),
      ...(x.userAgent ? { userAgent: x.userAgent } : {}),
      current: x.publicId === auth.sessionId,
    })),
  };
}

/** @throws AppError 404 `session-not-found` (also for another user's session). */
export async function endSession(s: Services, userId: string, sessionId: string): Promise<void> {
  const result = await s.models.sessions.deleteOne({ publicId: sessionId, userId });
  if (result.deletedCount !== 1)
    throw new AppError({ status: 404, code: 'session-not-found', message: 'No such session.' });
  await s.feed.publish([cacheTag.user(userId)]);
}

/**
 * Password change: proves the current login secret, stores the new hash, salt seed, KDF
 * and re-wrapped private key, and ends every other session (DESIGN §3). The write is
 * filtered on the hash that was checked, under a claim (lib/claims.ts), so of two racing
 * changes only one is stored.
 *
 * @throws AppError 401 `invalid-credentials` (also for the loser of such a race), 400 `key-not-locked`, 429.
 */
export async function changePassword(
  s: Services,
  auth: { userId: string; sessionId: string },
  body: ChangePasswordRequest,
  req: Request,
): Promise<void> {
  await checkKdfParams(body.kdf);
  const user = await currentUser(s, auth.userId);
  const release = await s.limiter.reserve(loginFailureKey(s, req, user.email), {
    limit: s.settings.rateLimits.loginFailuresPerAccount,
    backoff: LOGIN_BACKOFF,
  });
  if (!(await verifyLoginSecret(s.settings, user.loginHash, body.currentLoginSecret)))
    throw invalidCredentials();
  await release();
  await checkLockedKey(body.encryptedPrivateKey);
  const loginHash = await hashLoginSecret(s.settings, body.newLoginSecret);
  const stored = await setWhilePasswordIs(s, user, {
    loginHash,
    saltSeed: body.newSaltSeed,
    kdf: body.kdf,
    sealedPrivateKey: seal(
      s.settings.secrets.keySealingKey,
      body.encryptedPrivateKey,
      sealContext(user._id, 'private-key'),
    ),
    passwordChangedAt: new Date(),
  });
  // Another change won the race since we read the user: our current secret is no longer current.
  if (!stored) throw invalidCredentials();
  await s.models.sessions.deleteMany({ userId: user._id, publicId: { $ne: auth.sessionId } });
  await s.feed.publish([cacheTag.user(user._id)]);
}

/**
 * Recovery, step 1: a one-time challenge (5 minutes) and the recovery-locked private key.
 * Unlike login this says whether the account exists (registration does too); both are
 * rate-limited.
 *
 * @throws AppError 404 `recovery-unavailable`, 429.
 */
export async function recoveryStart(
  s: Services,
  email: string,
  ip: string,
): Promise<RecoveryStartResponse> {
  await s.limiter.hit(`recovery:ip:${ip}`, { limit: s.settings.rateLimits.recoveryPerIp });
  await s.limiter.hit(`recovery:acct:${email}`, {
    limit: s.settings.rateLimits.recoveryPerAccount,
  });
  const user = await userBy(s.models, { kind: 'email', email });
  if (!user)
    throw new AppError({
      status: 404,
      code: 'recovery-unavailable',
      message: 'Recovery is not possible for this email.',
    });
  const id = newId();
  const expiresAt = new Date(Date.now() + RECOVERY_CHALLENGE_MS);
  const challenge = `medseal/v1/recovery-challenge\nuser:${user._id}\nnonce:${randomBytes(32).toString('base64url')}\nexpires:${expiresAt.toISOString()}\n`;
  await s.models.challenges.create({ _id: id, userId: user._id, challenge, expiresAt });
  const recoveryEncryptedPrivateKey = unseal(
    s.settings.secrets.keySealingKey,
    toBuffer(user.sealedRecoveryKey),
    sealContext(user._id, 'recovery-key'),
  );
  return {
    challengeId: id,
    challenge,
    recoveryEncryptedPrivateKey,
    expiresAt: expiresAt.toISOString(),
  };
}

/**
 * Recovery, step 2: the challenge (used once) must be signed by the account's key; then the
 * new password is set, every session ends and a new one starts.
 *
 * @throws AppError 400 `challenge-invalid` (also once the password changed since the challenge
 *   was given) / `bad-signature` / `key-not-locked`, 409 `version-conflict`, 429.
 */
export async function recoveryComplete(
  s: Services,
  body: RecoveryCompleteRequest,
  ctx: { ip: string; req: Request; res: Response },
): Promise<SessionStartResponse> {
  await s.limiter.hit(`recovery:ip:${ctx.ip}`, { limit: s.settings.rateLimits.recoveryPerIp });
  // Before the challenge is used up.
  await checkKdfParams(body.kdf);
  const challenge = await s.models.challenges
    .findOneAndDelete({ _id: body.challengeId, expiresAt: { $gt: new Date() } })
    .lean();
  if (!challenge) throw challengeInvalid();
  const user = await currentUser(s, challenge.userId);
  // A recovery or password change since the challenge was given ends it: on FerretDB v1 two
  // recoveries racing with one challenge can both take it (its delete is not atomic).
  const issuedAt = challenge.expiresAt.getTime() - RECOVERY_CHALLENGE_MS;
  if (user.passwordChangedAt.getTime() > issuedAt) throw challengeInvalid();
  await s.limiter.hit(`recovery:acct:${user.email}`, {
    limit: s.settings.rateLimits.recoveryPerAccount,
  });
  await checkChallengeSignature({
    challenge: challenge.challenge,
    signature: body.signature,
    publicKey: user.publicKey,
  });
  await checkLockedKey(body.encryptedPrivateKey);
  await checkLockedKey(body.recoveryEncryptedPrivateKey);
  const sealingKey = s.settings.secrets.keySealingKey;
  const update: Partial<UserDoc> = {
    loginHash: await hashLoginSecret(s.settings, body.newLoginSecret),
    saltSeed: body.newSaltSeed,
    kdf: body.kdf,
    sealedPrivateKey: seal(
      sealingKey,
      body.encryptedPrivateKey,
      sealContext(user._id, 'private-key'),
    ),
    // A new recovery copy every time: the words just used may have been seen (issue 15, finding 9).
    sealedRecoveryKey: seal(
      sealingKey,
      body.recoveryEncryptedPrivateKey,
      sealContext(user._id, 'recovery-key'),
    ),
    passwordChangedAt: new Date(),
  };
  // A password change or another recovery (the same challenge, used twice at once) landed since
  // the challenge was read: this one is refused.
  if (!(await setWhilePasswordIs(s, user, update))) throw challengeInvalid();
  await s.models.sessions.deleteMany({ userId: user._id });
  await s.feed.publish([cacheTag.user(user._id)]);
  const updated = await currentUser(s, user._id);
  return sessionStart(s, updated, ctx.req, ctx.res);
}

const challengeInvalid = () =>
  new AppError({
    status: 400,
    code: 'challenge-invalid',
    message: 'The recovery challenge is unknown, used or expired.',
  });
