// The crypto API as the UI thread sees it through the worker (DESIGN §4, STYLE.md §2): the same
// functions as the plain API, but private keys, key secrets, recovery secrets and session keys
// stay in this object and are referred to by opaque handles. Nothing secret is returned, except
// what the user must see or download on purpose (recovery words, an exported key).
import { transfer } from 'comlink';
import { createGrant, type GrantInput } from '../grants';
import { CryptoError } from '../errors';
import { randomBytes, toBase64Url } from '../encoding';
import {
  commitFileKey,
  openFile,
  sealFile,
  type FileProgress,
  type OpenFileResult,
} from '../files';
import {
  formatFingerprint,
  parseFingerprint,
  safetyNumber,
  safetyNumberQrPayload,
} from '../fingerprint';
import { addRecipientPacket, checkEncryptedTo, inspectMessage } from '../inspect';
import {
  fingerprintOf,
  generateUserKey,
  publicKeyOf,
  readPublicKey,
  type UnlockedKey,
} from '../keys';
import { createSessionKey, type DecryptWith, type SessionKey } from '../messages';
import { rekeyAddsNoReader, sealRekey, type RekeyInput } from '../rekey';
import { checkOwnKey, exportPrivateKey, lockPrivateKey, unlockPrivateKey } from '../protect';
import {
  checkRecipientList,
  openRecord,
  sealRecord,
  type JsonObject,
  type OpenRecordResult,
  type RecordEnvelope,
  type RecordEnvelopeInput,
  type RecordExpectation,
} from '../records';
import { createRecoveryKey, recoverySecretFromWords } from '../recovery';
import { createRecipientPacket, type FileKeyCommitment, type ShareSource } from '../sharing';
import {
  checkKdf,
  createSaltSeed,
  deriveSecrets,
  DEFAULT_KDF,
  MIN_KDF,
  type KdfProgress,
} from '../secrets';
import { signChallenge, verifyChallengeSignature } from '../challenge';
import { verifyGrant } from '../grants';
import {
  consentBook,
  createConsent,
  verifyConsent,
  type Consent,
  type ConsentInput,
} from '../consents';
import { openSelfBlob, sealSelfBlob, type OpenSelfBlobResult } from '../blobs';
import {
  openAccountState,
  ownKeyOf,
  sealAccountState,
  type AccountState,
  type HighWaterMark,
  type OpenAccountStateResult,
} from '../account-state';
import {
  checkAuditTrail,
  signAuditCheckpoint,
  type AuditCheckpoint,
  type AuditLink,
  type AuditMark,
  type AuditTrailResult,
} from '../audit';
import {
  createTabWrappingKey,
  openKeyForTab,
  sealKeyForTab,
  type TabSealedKey,
  type TabWrappingKey,
} from '../tab-session';
import type { Json } from '../encoding';
import {
  checkGossipHead,
  checkHeadUpdate,
  checkOwnBindings,
  checkOwnMemberships,
  checkTeamInLog,
  keyIdentityOf,
  verifyKeyInLog,
  verifyTreeHead,
  type GossipResult,
  type MapProof,
  type OwnBindingsResult,
  type OwnMembershipsResult,
  type TeamLogResult,
  type ProvenBinding,
  type SignedTreeHead,
  type UserKeyBinding,
} from '../transparency';
import {
  attestationOf,
  checkTeamPublicKey,
  createTeamGrant,
  currentTeamKey,
  generateTeamKey,
  replayTeamLog,
  signTeamStatement,
  statementHashesSignedBy,
  teamKeyAt,
  teamKeyRef,
  unwrapTeamKey,
  verifyTeamGrant,
  wrapTeamKey,
  type TeamAttestation,
  type TeamChange,
  type TeamGrant,
  type TeamGrantInput,
  type TeamKeyEnvelopeContext,
  type TeamKeyRef,
  type TeamKeyState,
  type TeamState,
  type TeamStatement,
} from '../teams';
import type {
  ArmoredMessage,
  ArmoredPrivateKey,
  ArmoredPublicKey,
  Fingerprint,
  Grant,
  KdfParams,
  UserId,
} from '../types';

/** `openRecord` across the worker: a re-key's base session key stays in the worker, behind a handle. */
export type WorkerOpenRecordResult<C extends JsonObject = JsonObject> =
  | Exclude<OpenRecordResult<C>, { status: 'rekeyed' }>
  | ({ baseSessionKeyHandle: SessionKeyHandle } & Omit<
      Extract<OpenRecordResult<C>, { status: 'rekeyed' }>,
      'baseSessionKey'
    >);

/** Opaque reference to an unlocked private key held in the worker. */
export type KeyHandle = string & { readonly __handle: 'key' };
/** Opaque reference to a key secret (from a password or a recovery key) held in the worker. */
export type SecretHandle = string & { readonly __handle: 'secret' };
/** Opaque reference to a session key held in the worker. */
export type SessionKeyHandle = string & { readonly __handle: 'session-key' };

/** What the UI learns about an unlocked key. */
export interface KeyRef {
  handle: KeyHandle;
  fingerprint: Fingerprint;
  publicKey: ArmoredPublicKey;
}

/** Progress callbacks may be comlink proxies (their calls return promises); never await them. */
type Callback<T> = (value: T) => unknown;

function fire<T>(callback: Callback<T> | undefined, value: T): void {
  if (!callback) return;
  try {
    void Promise.resolve(callback(value)).catch(() => undefined);
  } catch {
    // a failing progress callback must not break the crypto operation
  }
}

export interface CryptoWorkerOptions {
  /**
   * The key-transparency log's public key (DESIGN §14), built into the app: the worker checks
   * heads only against it, so nothing the UI thread or the server sends can swap it.
   */
  ktLogPublicKey?: string;
}

/** Builds one API object with its own key store. `exposeCryptoWorker` exposes one per worker. */
export function createCryptoWorkerApi(options: CryptoWorkerOptions = {}) {
  const keys = new Map<string, UnlockedKey>();
  const secrets = new Map<string, Uint8Array>();
  const sessionKeys = new Map<string, SessionKey>();

  const newHandle = (prefix: string) => `${prefix}_${toBase64Url(randomBytes(16))}`;
  const addKey = (key: UnlockedKey): KeyRef => {
    const handle = newHandle('key') as KeyHandle;
    keys.set(handle, key);
    return { handle, fingerprint: key.fingerprint, publicKey: publicKeyOf(key) };
  };
  const addSecret = (secret: Uint8Array): SecretHandle => {
    const handle = newHandle('secret') as SecretHandle;
    secrets.set(handle, secret);
    return handle;
  };
  const key = (handle: KeyHandle): UnlockedKey => {
    const k = keys.get(handle);
    if (!k)
      throw new CryptoError(
        'unknown-handle',
        'no unlocked key for this handle (locked or forgotten)',
      );
    return k;
  };
  const secret = (handle: SecretHandle): Uint8Array => {
    const s = secrets.get(handle);
    if (!s) throw new CryptoError('unknown-handle', 'no secret for this handle');
    return s;
  };
  const sessionKey = (handle: SessionKeyHandle): SessionKey => {
    const s = sessionKeys.get(handle);
    if (!s) throw new CryptoError('unknown-handle', 'no session key for this handle');
    return s;
  };
  const session = (handle: SessionKeyHandle | undefined): { sessionKey?: SessionKey } =>
    handle === undefined ? {} : { sessionKey: sessionKey(handle) };

  const logKey = (): string => {
    if (!options.ktLogPublicKey)
      throw new CryptoError(
        'invalid-argument',
        'this app was built without a key-transparency log key',
      );
    return options.ktLogPublicKey;
  };

  return {
    // --- constants and pure helpers (no secrets involved) ---
    async kdfDefaults(): Promise<{ DEFAULT_KDF: KdfParams; MIN_KDF: KdfParams }> {
      return { DEFAULT_KDF: { ...DEFAULT_KDF }, MIN_KDF: { ...MIN_KDF } };
    },
    async checkKdf(kdf: unknown): Promise<KdfParams> {
      return checkKdf(kdf);
    },
    async createSaltSeed(): Promise<string> {
      return createSaltSeed();
    },
    readPublicKey,
    fingerprintOf,
    async formatFingerprint(fp: string): Promise<string> {
      return formatFingerprint(fp);
    },
    async parseFingerprint(fp: string): Promise<Fingerprint> {
      return parseFingerprint(fp);
    },
    safetyNumber,
    async safetyNumberQrPayload(shownBy: string, scannedBy: string): Promise<string> {
      return safetyNumberQrPayload(shownBy, scannedBy);
    },
    verifyGrant,
    verifyConsent,
    verifyChallengeSignature,
    inspectMessage,
    checkEncryptedTo,
    addRecipientPacket,
    checkRecipientList,

    // --- keys and secrets (held here, referred to by handle) ---
    async generateUserKey(opts: { name: string; email: string }): Promise<KeyRef> {
      const generated = await generateUserKey(opts);
      return addKey(generated.privateKey);
    },
    /** Password → loginSecret (for the server) + a handle to keySecret (stays here). */
    async deriveSecrets(
      opts: { password: string; email: string; saltSeed: string; kdf: KdfParams },
      onProgress?: Callback<KdfProgress>,
    ): Promise<{ loginSecret: string; secretHandle: SecretHandle }> {
      const { loginSecret, keySecret } = await deriveSecrets({
        ...opts,
        onProgress: (p) => fire(onProgress, p),
      });
      return { loginSecret, secretHandle: addSecret(keySecret) };
    },
    /** Login in one call when the encrypted private key is already known. */
    async deriveAndUnlock(
      opts: {
        password: string;
        email: string;
        saltSeed: string;
        kdf: KdfParams;
        encryptedPrivateKey: string;
        registeredPublicKey: string;
      },
      onProgress?: Callback<KdfProgress>,
    ): Promise<KeyRef & { loginSecret: string }> {
      const { loginSecret, keySecret } = await deriveSecrets({
        ...opts,
        onProgress: (p) => fire(onProgress, p),
      });
      try {
        const unlocked = await unlockPrivateKey({
          lockedKey: opts.encryptedPrivateKey,
          secret: keySecret,
        });
        await checkOwnKey(unlocked, opts.registeredPublicKey);
        return { ...addKey(unlocked), loginSecret };
      } finally {
        keySecret.fill(0);
      }
    },
    /**
     * Unlocks and checks the key against the registered public key (`own-key-mismatch`, DESIGN
     * §12); `'after-recovery'` when the server tells the registered key only once the recovery
     * is complete (then call `checkOwnKey` before using the key).
     */
    async unlockWithSecret(opts: {
      secretHandle: SecretHandle;
      encryptedPrivateKey: string;
      registeredPublicKey: string | 'after-recovery';
    }): Promise<KeyRef> {
      const unlocked = await unlockPrivateKey({
        lockedKey: opts.encryptedPrivateKey,
        secret: secret(opts.secretHandle),
      });
      if (opts.registeredPublicKey !== 'after-recovery')
        await checkOwnKey(unlocked, opts.registeredPublicKey);
      return addKey(unlocked);
    },
    /** `own-key-mismatch` (and the key is forgotten) unless the key is the registered one. */
    async checkOwnKey(opts: { keyHandle: KeyHandle; registeredPublicKey: string }): Promise<void> {
      try {
        await checkOwnKey(key(opts.keyHandle), opts.registeredPublicKey);
      } catch (error) {
        keys.delete(opts.keyHandle);
        throw error;
      }
    },
    /** Encrypts the key under a secret (keySecret at registration / password change, or the recovery secret). */
    async lockKey(opts: {
      keyHandle: KeyHandle;
      secretHandle: SecretHandle;
    }): Promise<ArmoredPrivateKey> {
      return lockPrivateKey({ privateKey: key(opts.keyHandle), secret: secret(opts.secretHandle) });
    },
    /** The words are returned because the user must see them once; the secret stays here. */
    async createRecoveryKey(): Promise<{ words: string[]; secretHandle: SecretHandle }> {
      const { words, secret: s } = await createRecoveryKey();
      return { words, secretHandle: addSecret(s) };
    },
    async recoverySecretFromWords(words: string | string[]): Promise<SecretHandle> {
      return addSecret(await recoverySecretFromWords(words));
    },
    async exportPrivateKey(opts: {
      keyHandle: KeyHandle;
      passphrase: string;
    }): Promise<ArmoredPrivateKey> {
      return exportPrivateKey({ privateKey: key(opts.keyHandle), passphrase: opts.passphrase });
    },
    async publicKeyOf(keyHandle: KeyHandle): Promise<ArmoredPublicKey> {
      return publicKeyOf(key(keyHandle));
    },
    async signChallenge(opts: { challenge: string; keyHandle: KeyHandle }): Promise<string> {
      return signChallenge({ challenge: opts.challenge, privateKey: key(opts.keyHandle) });
    },
    async createSessionKey(): Promise<SessionKeyHandle> {
      const handle = newHandle('sk') as SessionKeyHandle;
      sessionKeys.set(handle, createSessionKey());
      return handle;
    },

    // --- "stay unlocked in this tab" (DESIGN §4) ---
    /** A non-extractable AES-GCM CryptoKey; the UI stores it in IndexedDB and deletes it on logout / tab close. */
    createTabWrappingKey,
    async sealKeyForTab(opts: {
      keyHandle: KeyHandle;
      wrappingKey: TabWrappingKey;
    }): Promise<TabSealedKey> {
      return sealKeyForTab({ privateKey: key(opts.keyHandle), wrappingKey: opts.wrappingKey });
    },
    async openKeyForTab(opts: {
      sealed: TabSealedKey;
      wrappingKey: TabWrappingKey;
    }): Promise<KeyRef> {
      return addKey(await openKeyForTab(opts));
    },

    // --- records, files, sharing, blobs ---
    async sealRecord<C extends JsonObject>(opts: {
      envelope: RecordEnvelopeInput<C>;
      keyHandle: KeyHandle;
      recipientKeys: string[];
      sessionKeyHandle?: SessionKeyHandle;
    }): Promise<{ message: ArmoredMessage; envelope: RecordEnvelope<C> }> {
      return sealRecord({
        envelope: opts.envelope,
        authorKey: key(opts.keyHandle),
        recipientKeys: opts.recipientKeys,
        ...session(opts.sessionKeyHandle),
      });
    },
    /**
     * Opens a record version with my key, or with the session key a re-key handed over (its base).
     * A re-key's base session key stays here: the answer carries a handle to it (forget it after use).
     */
    async openRecord<C extends JsonObject = JsonObject>(
      opts: { message: string; expect: RecordExpectation } & (
        { keyHandle: KeyHandle } | { sessionKeyHandle: SessionKeyHandle }
      ),
    ): Promise<WorkerOpenRecordResult<C>> {
      const using: DecryptWith =
        'keyHandle' in opts
          ? { myKey: key(opts.keyHandle) }
          : { sessionKey: sessionKey(opts.sessionKeyHandle) };
      const result = await openRecord<C>({ message: opts.message, expect: opts.expect, ...using });
      if (result.status !== 'rekeyed') return result;
      const handle = newHandle('sk') as SessionKeyHandle;
      sessionKeys.set(handle, result.baseSessionKey);
      return { status: 'rekeyed', rekey: result.rekey, baseSessionKeyHandle: handle };
    },
    /** Whether a re-key adds no reader to its base (rekey.ts). */
    async rekeyAddsNoReader(opts: {
      base: string[];
      sealedBeyondGrants: string[];
      teams: TeamState[];
    }): Promise<boolean> {
      return rekeyAddsNoReader(opts);
    },
    /** A re-key version of `baseMessage` (opened with `keyHandle`), signed with `signerHandle` (rekey.ts). */
    async sealRekey(opts: {
      rekey: RekeyInput;
      baseMessage: string;
      keyHandle: KeyHandle;
      signerHandle: KeyHandle;
      recipientKeys: string[];
    }): Promise<{ message: ArmoredMessage; recipients: Fingerprint[] }> {
      return sealRekey({
        rekey: opts.rekey,
        base: { message: opts.baseMessage, myKey: key(opts.keyHandle) },
        signerKey: key(opts.signerHandle),
        recipientKeys: opts.recipientKeys,
      });
    },
    async sealFile(
      opts: {
        data: Uint8Array;
        keyHandle: KeyHandle;
        recipientKeys: string[];
        sessionKeyHandle?: SessionKeyHandle;
      },
      onProgress?: Callback<FileProgress>,
    ): Promise<{ message: Uint8Array; sha256: string }> {
      const result = await sealFile({
        data: opts.data,
        authorKey: key(opts.keyHandle),
        recipientKeys: opts.recipientKeys,
        ...session(opts.sessionKeyHandle),
        ...(onProgress ? { onProgress: (p: FileProgress) => fire(onProgress, p) } : {}),
      });
      // Move (not copy) the ciphertext to the UI thread: attachments can be hundreds of MiB.
      return transfer(result, [result.message.buffer as ArrayBuffer]);
    },
    async openFile(
      opts: {
        message: Uint8Array;
        keyHandle: KeyHandle;
        authorPublicKey: string;
        authorFingerprint?: Fingerprint;
        expectSha256?: string;
      },
      onProgress?: Callback<FileProgress>,
    ): Promise<OpenFileResult> {
      const { keyHandle, ...rest } = opts;
      const result = await openFile({
        ...rest,
        myKey: key(keyHandle),
        ...(onProgress ? { onProgress: (p: FileProgress) => fire(onProgress, p) } : {}),
      });
      return result.status === 'verified'
        ? transfer(result, [result.data.buffer as ArrayBuffer])
        : result;
    },
    /** The key commitment (DESIGN §12) of a file sealed under the session key behind the handle. */
    async commitFileKey(opts: {
      fileId: string;
      sessionKeyHandle: SessionKeyHandle;
    }): Promise<string> {
      const { sessionKey } = session(opts.sessionKeyHandle);
      if (!sessionKey) throw new CryptoError('unknown-handle', 'no session key for this handle');
      return commitFileKey({ fileId: opts.fileId, sessionKey });
    },
    async createRecipientPacket(
      opts: ShareSource & {
        keyHandle: KeyHandle;
        newRecipientKey: string;
        expectKeyCommitment?: FileKeyCommitment;
      },
    ): Promise<string> {
      const { keyHandle, ...rest } = opts;
      return createRecipientPacket({ ...rest, myKey: key(keyHandle) });
    },
    async createGrant(opts: {
      grant: GrantInput;
      keyHandle: KeyHandle;
    }): Promise<{ signedGrant: string; grant: Grant }> {
      return createGrant({ grant: opts.grant, signerKey: key(opts.keyHandle) });
    },
    async sealSelfBlob(opts: {
      data: Json;
      purpose: string;
      keyHandle: KeyHandle;
    }): Promise<ArmoredMessage> {
      return sealSelfBlob({ data: opts.data, purpose: opts.purpose, key: key(opts.keyHandle) });
    },
    async openSelfBlob(opts: {
      message: string;
      purpose: string;
      keyHandle: KeyHandle;
    }): Promise<OpenSelfBlobResult> {
      return openSelfBlob({
        message: opts.message,
        purpose: opts.purpose,
        key: key(opts.keyHandle),
      });
    },
    /** The `ownKey` entry of a first account state (fingerprint + whole-public-key hash). */
    async ownKeyOf(keyHandle: KeyHandle): Promise<AccountState['ownKey']> {
      return ownKeyOf(key(keyHandle));
    },
    async sealAccountState(opts: {
      state: AccountState;
      keyHandle: KeyHandle;
    }): Promise<{ message: Uint8Array; mark: HighWaterMark }> {
      const sealed = await sealAccountState({ state: opts.state, key: key(opts.keyHandle) });
      return transfer(sealed, [sealed.message.buffer as ArrayBuffer]);
    },
    async openAccountState(opts: {
      message: Uint8Array;
      userId: string;
      keyHandle: KeyHandle;
      highWater?: HighWaterMark;
    }): Promise<OpenAccountStateResult> {
      const { keyHandle, ...rest } = opts;
      return openAccountState({ ...rest, key: key(keyHandle) });
    },

    // --- access trails (DESIGN §12 "Audit"): recomputed here, checkpoints signed with my key ---
    async checkAuditTrail(opts: {
      recordId: string;
      events: AuditLink[];
      signedCheckpoint: string | null;
      keyHandle: KeyHandle;
      seen?: AuditMark;
    }): Promise<AuditTrailResult> {
      const { keyHandle, ...rest } = opts;
      return checkAuditTrail({ ...rest, ownerKey: key(keyHandle) });
    },
    async signAuditCheckpoint(opts: {
      checkpoint: AuditCheckpoint;
      keyHandle: KeyHandle;
    }): Promise<string> {
      return signAuditCheckpoint({ checkpoint: opts.checkpoint, key: key(opts.keyHandle) });
    },

    // --- care teams (DESIGN §13): team keys live here behind handles like the user's key ---
    replayTeamLog,
    teamKeyRef,
    checkTeamPublicKey,
    verifyTeamGrant,
    async currentTeamKey(state: TeamState): Promise<TeamKeyState> {
      return currentTeamKey(state);
    },
    async teamKeyAt(state: TeamState, at: string): Promise<TeamKeyState | undefined> {
      return teamKeyAt(state, at);
    },
    async attestationOf(
      state: TeamState,
      who: { userId: string; fingerprint: string },
    ): Promise<TeamAttestation | null> {
      return attestationOf(state, who);
    },
    /** A new team key (creation, rotation); its private half stays here. */
    async generateTeamKey(): Promise<KeyRef & { ref: TeamKeyRef }> {
      const generated = await generateTeamKey();
      return { ...addKey(generated.privateKey), ref: generated.ref };
    },
    /** The key envelope of one member: the team key encrypted to their key. */
    async wrapTeamKey(opts: {
      teamKeyHandle: KeyHandle;
      context: TeamKeyEnvelopeContext;
      memberPublicKey: string;
    }): Promise<ArmoredMessage> {
      return wrapTeamKey({
        teamKey: key(opts.teamKeyHandle),
        context: opts.context,
        memberPublicKey: opts.memberPublicKey,
      });
    },
    /** Opens my key envelope; the team key becomes a handle usable wherever my own key is (openRecord, createRecipientPacket, ...). */
    async unwrapTeamKey(opts: {
      message: string;
      keyHandle: KeyHandle;
      context: TeamKeyEnvelopeContext;
      expected: TeamKeyRef;
    }): Promise<KeyRef> {
      return addKey(
        await unwrapTeamKey({
          message: opts.message,
          myKey: key(opts.keyHandle),
          context: opts.context,
          expected: opts.expected,
        }),
      );
    },
    async signTeamStatement(opts: {
      state: TeamState | null;
      teamId?: string;
      change: TeamChange;
      signerId: UserId;
      keyHandle: KeyHandle;
    }): Promise<{ signed: string; statement: TeamStatement; hash: string; state: TeamState }> {
      const { keyHandle, ...rest } = opts;
      return signTeamStatement({ ...rest, signerKey: key(keyHandle) });
    },
    consentBook,
    /** Signs a consent to write (or its withdrawal) with the patient's own key (DESIGN §13). */
    async createConsent(opts: {
      consent: ConsentInput;
      keyHandle: KeyHandle;
    }): Promise<{ signedConsent: string; consent: Consent }> {
      return createConsent({ consent: opts.consent, patientKey: key(opts.keyHandle) });
    },
    async createTeamGrant(opts: {
      grant: TeamGrantInput;
      keyHandle: KeyHandle;
    }): Promise<{ signedGrant: string; grant: TeamGrant }> {
      return createTeamGrant({ grant: opts.grant, signerKey: key(opts.keyHandle) });
    },

    // --- key transparency (DESIGN §14), against the log key this worker was built with ---
    /** A new signed head, accepted only if it extends `stored` (checkHeadUpdate). */
    async ktCheckHead(opts: {
      stored: SignedTreeHead | null;
      next: SignedTreeHead;
      consistency: string[];
    }): Promise<SignedTreeHead> {
      return checkHeadUpdate({ ...opts, logPublicKey: logKey() });
    },
    /** A directory key with its inclusion proof under `head` (whose signature is checked again here). */
    async ktVerifyKey(opts: {
      head: SignedTreeHead;
      armoredKey: string;
      expect: { userId: string; email?: string; emailNonce?: string };
      proven: ProvenBinding;
      map: MapProof;
    }): Promise<UserKeyBinding> {
      verifyTreeHead(opts.head, logKey());
      return verifyKeyInLog(opts);
    },
    /** Self-monitoring: every binding logged for me must be my own key (the unlocked one). */
    async ktCheckOwnBindings(opts: {
      head: SignedTreeHead;
      userId: string;
      keyHandle: KeyHandle;
      history: ProvenBinding[];
      map: MapProof;
    }): Promise<OwnBindingsResult> {
      verifyTreeHead(opts.head, logKey());
      const own = await keyIdentityOf(publicKeyOf(key(opts.keyHandle)));
      return checkOwnBindings({
        head: opts.head,
        userId: opts.userId,
        ownKeys: [own],
        history: opts.history,
        map: opts.map,
      });
    },
    /**
     * Self-monitoring of memberships: teams the log says I was added to by someone else's key.
     * `statements`: the signed statements a first call's `confirm-own` leaves name, as the server
     * gave them (each counts only if my key signed it).
     */
    async ktCheckOwnMemberships(opts: {
      head: SignedTreeHead;
      userId: string;
      keyHandle: KeyHandle;
      history: ProvenBinding[];
      map: MapProof;
      statements?: string[];
    }): Promise<OwnMembershipsResult> {
      verifyTreeHead(opts.head, logKey());
      const mine = key(opts.keyHandle);
      return checkOwnMemberships({
        head: opts.head,
        userId: opts.userId,
        ownFingerprints: [mine.fingerprint],
        history: opts.history,
        map: opts.map,
        ...(opts.statements
          ? {
              ownStatementHashes: await statementHashesSignedBy(opts.statements, publicKeyOf(mine)),
            }
          : {}),
      });
    },
    /** A team's verified history against every leaf the log holds for the team (checkTeamInLog). */
    async ktCheckTeam(opts: {
      head: SignedTreeHead;
      state: TeamState;
      statements: string[];
      history: ProvenBinding[];
      map: MapProof;
    }): Promise<TeamLogResult> {
      verifyTreeHead(opts.head, logKey());
      return checkTeamInLog(opts);
    },
    /** Gossip: my head and one another person signed into a record or grant must be consistent. */
    async ktCheckGossip(opts: {
      own: SignedTreeHead;
      theirs: SignedTreeHead;
      proof: string[];
    }): Promise<GossipResult> {
      verifyTreeHead(opts.own, logKey());
      return checkGossipHead({ ...opts, logPublicKey: logKey() });
    },

    // --- forgetting ---
    /** Drops one key, secret or session key handle. Unknown handles are ignored. */
    async forget(handle: string): Promise<void> {
      secrets.get(handle)?.fill(0);
      sessionKeys.get(handle)?.data.fill(0);
      keys.delete(handle);
      secrets.delete(handle);
      sessionKeys.delete(handle);
    },
    /** Logout / lock: drops everything this worker holds. */
    async lock(): Promise<void> {
      for (const s of secrets.values()) s.fill(0);
      for (const s of sessionKeys.values()) s.data.fill(0);
      keys.clear();
      secrets.clear();
      sessionKeys.clear();
    },
    /** How many handles are live (for tests and a "locked" indicator). */
    async stats(): Promise<{ keys: number; secrets: number; sessionKeys: number }> {
      return { keys: keys.size, secrets: secrets.size, sessionKeys: sessionKeys.size };
    },
  };
}

/** The API type the UI thread's comlink client wraps: `Comlink.Remote<CryptoWorkerApi>`. */
export type CryptoWorkerApi = ReturnType<typeof createCryptoWorkerApi>;
