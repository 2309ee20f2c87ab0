import { endpoints, type Me, type RegisterRequest, type Role } from '@medseal/contract';
import type { Call } from '../../api/http';
import type { CryptoClient, KeyRef, SecretHandle } from '../../crypto/client';
import { forgetTab, rememberInTab } from '../../crypto/tabVault';
import { createFirstAccountState } from '../../app/accountState';
import { deviceHighWaterMarks } from '../../app/highWaterMarks';

/**
 * The auth protocol v1 (DESIGN §3) from the browser's side. The password goes only into the
 * worker; the server gets the derived login secret and keys locked under secrets it never sees.
 */
export interface RegisterInput {
  role: Role;
  name: string;
  email: string;
  password: string;
}

/** Everything made in the browser before the account exists; sent only after the kit is confirmed. */
export interface PreparedRegistration {
  email: string;
  recoveryWords: string[];
  request: RegisterRequest;
  key: KeyRef;
}

export interface RegisterFlows {
  prepare(
    input: RegisterInput,
    onProgress: (stage: string, fraction: number | null) => void,
  ): Promise<PreparedRegistration>;
  complete(prepared: PreparedRegistration): Promise<void>;
}

export interface Unlocked {
  user: Me;
  key: KeyRef;
}

interface Deps {
  call: Call;
  crypto: CryptoClient;
}

export const STAGE_STRETCH = 'Protecting your password';

async function derive(
  deps: Deps,
  opts: { password: string; email: string; saltSeed: string; kdf: unknown },
  onProgress?: (fraction: number | null) => void,
) {
  // The client refuses KDF parameters weaker than its own minimum, whatever the server says.
  const kdf = await deps.crypto.checkKdf(opts.kdf);
  onProgress?.(null);
  const result = await deps.crypto.deriveSecrets({
    password: opts.password,
    email: opts.email,
    saltSeed: opts.saltSeed,
    kdf,
  });
  onProgress?.(1);
  return { ...result, kdf };
}

async function forgetAll(crypto: CryptoClient, handles: SecretHandle[]) {
  await Promise.all(handles.map((h) => crypto.forget(h)));
}

export function registerFlows(deps: Deps, onRegistered: (u: Unlocked) => void): RegisterFlows {
  return {
    async prepare(input, onProgress) {
      const { crypto } = deps;
      onProgress(STAGE_STRETCH, null);
      const { DEFAULT_KDF } = await crypto.kdfDefaults();
      const saltSeed = await crypto.createSaltSeed();
      const { loginSecret, secretHandle, kdf } = await derive(deps, {
        password: input.password,
        email: input.email,
        saltSeed,
        kdf: DEFAULT_KDF,
      });
      onProgress('Generating your keys on this device', 0.6);
      const key = await crypto.generateUserKey({ name: input.name, email: input.email });
      const recovery = await crypto.createRecoveryKey();
      onProgress('Protecting your keys', 0.9);
      try {
        const encryptedPrivateKey = await crypto.lockKey({ keyHandle: key.handle, secretHandle });
        const recoveryEncryptedPrivateKey = await crypto.lockKey({
          keyHandle: key.handle,
          secretHandle: recovery.secretHandle,
        });
        onProgress('Done', 1);
        return {
          email: input.email,
          recoveryWords: recovery.words,
          key,
          request: {
            email: input.email,
            name: input.name,
            role: input.role,
            publicKey: key.publicKey,
            loginSecret,
            saltSeed,
            kdf,
            encryptedPrivateKey,
            recoveryEncryptedPrivateKey,
          },
        };
      } finally {
        await forgetAll(crypto, [secretHandle, recovery.secretHandle]);
      }
    },
    async complete(prepared) {
      const started = await deps.call(endpoints.register, { body: prepared.request });
      if (started.user.fingerprint !== prepared.key.fingerprint)
        throw new Error('The server registered a different key than the one made here.');
      // The first account state (DESIGN §12): from now on a missing one is a security error.
      await createFirstAccountState({
        ...deps,
        user: started.user,
        key: prepared.key,
        marks: deviceHighWaterMarks,
      });
      onRegistered({ user: started.user, key: prepared.key });
    },
  };
}

/** Password → login secret → session + locked key → unlocked key in the worker. */
export async function login(
  deps: Deps,
  input: { email: string; password: string; stayUnlocked: boolean },
  onProgress?: (fraction: number | null) => void,
): Promise<Unlocked> {
  const params = await deps.call(endpoints.authParams, { query: { email: input.email } });
  const { loginSecret, secretHandle } = await derive(
    deps,
    { password: input.password, email: input.email, saltSeed: params.saltSeed, kdf: params.kdf },
    onProgress,
  );
  try {
    // Without "stay unlocked" the server sets a session cookie that ends with the browser.
    const started = await deps.call(endpoints.login, {
      body: { email: input.email, loginSecret, stayUnlocked: input.stayUnlocked },
    });
    const key = await deps.crypto.unlockWithSecret({
      secretHandle,
      encryptedPrivateKey: started.encryptedPrivateKey,
      registeredPublicKey: started.user.publicKey,
    });
    if (key.fingerprint !== started.user.fingerprint) {
      await deps.crypto.forget(key.handle);
      throw new Error('The key the server returned does not belong to this account.');
    }
    if (input.stayUnlocked) await rememberInTab(deps.crypto, key, started.user.id);
    else await forgetTab();
    return { user: started.user, key };
  } finally {
    await deps.crypto.forget(secretHandle);
  }
}

/**
 * The server ended the session while the keys stayed unlocked in this tab: the password makes a
 * new session for the same account. The key in the worker is kept (the page and its drafts
 * stay as they are); the locked key the server returns is not needed.
 * @throws ApiError (e.g. `invalid-credentials`); Error when the server answers for another account or key.
 */
export async function resumeSession(
  deps: Deps & { user: Me; key: KeyRef },
  password: string,
  onProgress?: (fraction: number | null) => void,
): Promise<void> {
  const params = await deps.call(endpoints.authParams, { query: { email: deps.user.email } });
  const { loginSecret, secretHandle } = await derive(
    deps,
    { password, email: deps.user.email, saltSeed: params.saltSeed, kdf: params.kdf },
    onProgress,
  );
  try {
    const started = await deps.call(endpoints.login, {
      body: { email: deps.user.email, loginSecret },
    });
    if (started.user.id !== deps.user.id || started.user.fingerprint !== deps.key.fingerprint)
      throw new Error('The server answered for another account or key.');
  } finally {
    await deps.crypto.forget(secretHandle);
  }
}

/** Lock now: the worker drops every key; the server session stays (the password unlocks again). */
export async function lockNow(deps: Deps): Promise<void> {
  await deps.crypto.lock();
  await forgetTab();
}

/** Logout: end the session (the server answers with Clear-Site-Data), drop keys and tab storage. */
export async function logout(deps: Deps): Promise<void> {
  try {
    await deps.call(endpoints.logout, {});
  } finally {
    await deps.crypto.lock();
    await forgetTab();
  }
}

/** Change password: re-wrap the private key under the new password's key secret (DESIGN §3). */
export async function changePassword(
  deps: Deps & { user: Me; key: KeyRef },
  input: { current: string; next: string },
  onProgress?: (f: number | null) => void,
): Promise<void> {
  const params = await deps.call(endpoints.authParams, { query: { email: deps.user.email } });
  const current = await derive(
    deps,
    { password: input.current, email: deps.user.email, saltSeed: params.saltSeed, kdf: params.kdf },
    onProgress,
  );
  const { DEFAULT_KDF } = await deps.crypto.kdfDefaults();
  const newSaltSeed = await deps.crypto.createSaltSeed();
  const next = await derive(
    deps,
    { password: input.next, email: deps.user.email, saltSeed: newSaltSeed, kdf: DEFAULT_KDF },
    onProgress,
  );
  try {
    const encryptedPrivateKey = await deps.crypto.lockKey({
      keyHandle: deps.key.handle,
      secretHandle: next.secretHandle,
    });
    await deps.call(endpoints.changePassword, {
      body: {
        currentLoginSecret: current.loginSecret,
        newLoginSecret: next.loginSecret,
        newSaltSeed,
        kdf: next.kdf,
        encryptedPrivateKey,
      },
    });
  } finally {
    await forgetAll(deps.crypto, [current.secretHandle, next.secretHandle]);
  }
}

/**
 * Lost password (DESIGN §3): the recovery words unlock the recovery copy of the key, which signs
 * the server's challenge; a new password then re-wraps the key. Records are untouched.
 */
/**
 * Recovery: the words unlock the recovery copy of the key, the new password re-locks it, and a
 * new recovery key replaces the used one (the words just typed stop working). The caller shows
 * `recoveryWords` as the new kit.
 */
export async function recoverAccount(
  deps: Deps,
  input: { email: string; words: string; newPassword: string },
  onProgress?: (f: number | null) => void,
): Promise<Unlocked & { recoveryWords: string[] }> {
  const started = await deps.call(endpoints.recoveryStart, { body: { email: input.email } });
  const recoverySecret = await deps.crypto.recoverySecretFromWords(input.words);
  let key: KeyRef;
  try {
    key = await deps.crypto.unlockWithSecret({
      secretHandle: recoverySecret,
      encryptedPrivateKey: started.recoveryEncryptedPrivateKey,
      registeredPublicKey: 'after-recovery',
    });
  } finally {
    await deps.crypto.forget(recoverySecret);
  }
  const signature = await deps.crypto.signChallenge({
    challenge: started.challenge,
    keyHandle: key.handle,
  });
  const { DEFAULT_KDF } = await deps.crypto.kdfDefaults();
  const newSaltSeed = await deps.crypto.createSaltSeed();
  const next = await derive(
    deps,
    { password: input.newPassword, email: input.email, saltSeed: newSaltSeed, kdf: DEFAULT_KDF },
    onProgress,
  );
  const recovery = await deps.crypto.createRecoveryKey();
  try {
    const encryptedPrivateKey = await deps.crypto.lockKey({
      keyHandle: key.handle,
      secretHandle: next.secretHandle,
    });
    const recoveryEncryptedPrivateKey = await deps.crypto.lockKey({
      keyHandle: key.handle,
      secretHandle: recovery.secretHandle,
    });
    const session = await deps.call(endpoints.recoveryComplete, {
      body: {
        challengeId: started.challengeId,
        signature,
        newLoginSecret: next.loginSecret,
        newSaltSeed,
        kdf: next.kdf,
        encryptedPrivateKey,
        recoveryEncryptedPrivateKey,
      },
    });
    if (session.user.fingerprint !== key.fingerprint)
      throw new Error('The recovered key does not belong to this account.');
    await deps.crypto.checkOwnKey({
      keyHandle: key.handle,
      registeredPublicKey: session.user.publicKey,
    });
    return { user: session.user, key, recoveryWords: recovery.words };
  } finally {
    await forgetAll(deps.crypto, [next.secretHandle, recovery.secretHandle]);
  }
}
