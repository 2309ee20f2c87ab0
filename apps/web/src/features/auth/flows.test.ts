import { endpoints } from '@medseal/contract';
import { inProcessCrypto } from '../../../test/inProcessCrypto';
import type { Call } from '../../api/http';
import { registerFlows, STAGE_STRETCH } from './flows';

// `prepare` makes everything in the browser and talks to no server; `complete` is covered by the E2E.
const noServer: Call = async () => {
  throw new Error('prepare must not call the server');
};

describe('registration in the crypto worker', () => {
  const { crypto, close } = inProcessCrypto();
  afterAll(close);

  it('when preparing an account, then the request carries only the login secret, a public key and keys locked under two different secrets', async () => {
    const stages: string[] = [];
    const flows = registerFlows({ call: noServer, crypto }, () => undefined);
    const password = 'Granite-Tulip-Otter-2026';
    const prepared = await flows.prepare(
      { role: 'patient', name: 'Ana', email: 'ana@example.org', password },
      (stage) => stages.push(stage),
    );

    expect(stages[0]).toBe(STAGE_STRETCH);
    expect(prepared.recoveryWords).toHaveLength(12);
    const parsed = endpoints.register.body.parse(prepared.request);
    expect(parsed.loginSecret).toMatch(/^[A-Za-z0-9_-]{43}$/);
    expect(parsed.encryptedPrivateKey).toContain('BEGIN PGP PRIVATE KEY BLOCK');
    expect(parsed.recoveryEncryptedPrivateKey).not.toBe(parsed.encryptedPrivateKey);
    expect(await crypto.fingerprintOf(parsed.publicKey)).toBe(prepared.key.fingerprint);

    const wire = JSON.stringify(prepared.request);
    expect(wire).not.toContain(password);
    expect(wire).not.toContain(prepared.recoveryWords.join(' '));
    // The secrets used to lock the key were dropped from the worker; only the unlocked key remains.
    expect(await crypto.stats()).toEqual({ keys: 1, secrets: 0, sessionKeys: 0 });
  });

  it('when the server offers KDF parameters below the client minimum, then the client refuses them', async () => {
    await expect(
      crypto.checkKdf({ algorithm: 'argon2id', memoryKiB: 1024, iterations: 1, parallelism: 1 }),
    ).rejects.toMatchObject({ code: 'kdf-too-weak' });
  });
});
