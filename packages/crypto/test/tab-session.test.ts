import { createTabWrappingKey, openKeyForTab, sealKeyForTab } from '../src';
import { createCryptoWorkerApi } from '../src/worker';
import { codeOf, makeUser } from './helpers';

describe('stay unlocked in this tab', () => {
  it('when sealed under the tab key, then the same tab key opens it and the CryptoKey is not extractable', async () => {
    const me = await makeUser('Tab');
    const wrappingKey = await createTabWrappingKey();
    expect(wrappingKey.extractable).toBe(false);
    const sealed = await sealKeyForTab({ privateKey: me.privateKey, wrappingKey });
    expect(sealed.v).toBe(1);
    expect(JSON.stringify(sealed)).not.toContain('PRIVATE KEY BLOCK-----\n\nxVg'); // locked, not plain
    expect((await openKeyForTab({ sealed, wrappingKey })).fingerprint).toBe(me.fingerprint);
  });

  it('when another tab key, a tampered blob or an unknown version is used, then wrong-key-secret / invalid-argument / unsupported-format', async () => {
    const me = await makeUser('Tab');
    const wrappingKey = await createTabWrappingKey();
    const sealed = await sealKeyForTab({ privateKey: me.privateKey, wrappingKey });
    expect(await codeOf(openKeyForTab({ sealed, wrappingKey: await createTabWrappingKey() }))).toBe(
      'wrong-key-secret',
    );
    const flipped = sealed.wrappedSecret.startsWith('A')
      ? 'B' + sealed.wrappedSecret.slice(1)
      : 'A' + sealed.wrappedSecret.slice(1);
    expect(
      await codeOf(openKeyForTab({ sealed: { ...sealed, wrappedSecret: flipped }, wrappingKey })),
    ).toBe('wrong-key-secret');
    expect(await codeOf(openKeyForTab({ sealed: { ...sealed, iv: 'short' }, wrappingKey }))).toBe(
      'invalid-argument',
    );
    expect(await codeOf(openKeyForTab({ sealed: { ...sealed, v: 2 as 1 }, wrappingKey }))).toBe(
      'unsupported-format',
    );
  });

  it('when used through the worker API, then a reload-style reopen gives a working handle', async () => {
    const api = createCryptoWorkerApi();
    const ref = await api.generateUserKey({ name: 'Tab', email: 'tab@example.org' });
    const wrappingKey = await api.createTabWrappingKey();
    const sealed = await api.sealKeyForTab({ keyHandle: ref.handle, wrappingKey });
    await api.lock();
    const reopened = await api.openKeyForTab({ sealed, wrappingKey });
    expect(reopened.fingerprint).toBe(ref.fingerprint);
    await expect(
      api.signChallenge({ challenge: 'challenge-0123456789', keyHandle: reopened.handle }),
    ).resolves.toContain('SIGNATURE');
  });
});
