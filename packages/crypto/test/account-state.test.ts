import * as openpgp from 'openpgp';
import { openAccountState, sealAccountState } from '../src';
import { pad } from '../src/padding';
import { stateOf, type User } from './account-state-helpers';
import { codeOf, makeUser } from './helpers';

describe('sealAccountState / openAccountState', () => {
  let me: User;
  let other: User;
  beforeAll(async () => {
    [me, other] = await Promise.all([makeUser('Me'), makeUser('Other')]);
  });

  it('when sealed and opened by the same key for the same user, then verified with the same state and the mark the sealer got', async () => {
    const state = await stateOf(me);
    const { message, mark } = await sealAccountState({ state, key: me.privateKey });
    expect(message).toBeInstanceOf(Uint8Array);
    const opened = await openAccountState({ message, userId: 'u-me', key: me.privateKey });
    expect(opened).toMatchObject({ status: 'verified', state, mark });
    expect(mark).toEqual({ version: 1, hash: expect.stringMatching(/^[0-9a-f]{64}$/) as string });
  });

  it('when this device saw the same state, a newer one, or nothing, then verified', async () => {
    const { message, mark } = await sealAccountState({
      state: await stateOf(me, { version: 4 }),
      key: me.privateKey,
    });
    for (const highWater of [mark, { version: 3, hash: 'aa'.repeat(32) }, undefined]) {
      expect(
        (
          await openAccountState({
            message,
            userId: 'u-me',
            key: me.privateKey,
            ...(highWater ? { highWater } : {}),
          })
        ).status,
      ).toBe('verified');
    }
  });

  it('when the server serves a version below this device’s high-water mark, then rolled-back', async () => {
    const older = await sealAccountState({
      state: await stateOf(me, { version: 2 }),
      key: me.privateKey,
    });
    const newer = await sealAccountState({
      state: await stateOf(me, { version: 3 }),
      key: me.privateKey,
    });
    expect(
      await openAccountState({
        message: older.message,
        userId: 'u-me',
        key: me.privateKey,
        highWater: newer.mark,
      }),
    ).toEqual({ status: 'rolled-back', version: 2, highWater: newer.mark });
  });

  it('when the server serves another state under the version this device saw, then forked', async () => {
    const seen = await sealAccountState({
      state: await stateOf(me, { version: 5 }),
      key: me.privateKey,
    });
    const other5 = await sealAccountState({
      state: await stateOf(me, { version: 5, pins: 1 }),
      key: me.privateKey,
    });
    expect(
      await openAccountState({
        message: other5.message,
        userId: 'u-me',
        key: me.privateKey,
        highWater: seen.mark,
      }),
    ).toEqual({ status: 'forked', version: 5, highWater: seen.mark });
  });

  it('when another user’s state is served (same key in a test, other user id), then context-mismatch user', async () => {
    const { message } = await sealAccountState({
      state: await stateOf(me, { userId: 'u-someone' }),
      key: me.privateKey,
    });
    expect(await openAccountState({ message, userId: 'u-me', key: me.privateKey })).toEqual({
      status: 'context-mismatch',
      mismatches: ['user'],
    });
  });

  it('when opened by another key, then not-for-me; when signed by another key, then bad-signature', async () => {
    const { message } = await sealAccountState({ state: await stateOf(me), key: me.privateKey });
    expect(await openAccountState({ message, userId: 'u-me', key: other.privateKey })).toEqual({
      status: 'not-for-me',
    });
    const forged = await openpgp.encrypt({
      message: await openpgp.createMessage({
        binary: new TextEncoder().encode('{"f":1,"p":"medseal.account-state"}'),
      }),
      encryptionKeys: me.privateKey.key.toPublic(),
      signingKeys: other.privateKey.key,
      format: 'binary',
      config: { aeadProtect: false },
    });
    expect(await openAccountState({ message: forged, userId: 'u-me', key: me.privateKey })).toEqual(
      { status: 'bad-signature', reason: 'signed-by-another-key' },
    );
  });

  it('when a pin carries a remembered mismatch ("They don’t match"), then it opens with it; a format 1 state (no such column) opens with none; a format 2 pin without it is not the format', async () => {
    const state = await stateOf(me);
    const [first, second] = state.pins;
    if (!first || !second) throw new Error('two pins expected');
    const mismatch = {
      fingerprint: 'ab'.repeat(20) as typeof first.fingerprint,
      at: '2026-12-03T10:00:00.000Z',
    };
    const withMismatch = { ...state, pins: [{ ...first, mismatch }, second] };
    const sealed = await sealAccountState({ state: withMismatch, key: me.privateKey });
    expect(
      await openAccountState({ message: sealed.message, userId: 'u-me', key: me.privateKey }),
    ).toMatchObject({ status: 'verified', state: withMismatch });

    const sign = async (wire: object) =>
      openpgp.encrypt({
        message: await openpgp.createMessage({
          binary: new TextEncoder().encode(JSON.stringify(wire) + '\n'),
        }),
        encryptionKeys: me.privateKey.key.toPublic(),
        signingKeys: me.privateKey.key,
        format: 'binary',
        config: { aeadProtect: false },
      });
    const pinRow = [
      second.userId,
      second.fingerprint,
      0,
      second.name,
      second.role,
      second.pinnedAt,
      null,
      [],
    ];
    const wire = {
      p: 'medseal.account-state',
      u: 'u-me',
      v: 1,
      at: '2026-12-03T10:00:00.000Z',
      k: [state.ownKey.fingerprint, state.ownKey.keyHash],
      seen: [],
      c: [],
      t: null,
    };
    const v1 = await openAccountState({
      message: await sign({ ...wire, f: 1, pins: [pinRow] }),
      userId: 'u-me',
      key: me.privateKey,
    });
    expect(v1.status === 'verified' && v1.state.pins).toEqual([{ ...second, verified: false }]);
    expect(
      await openAccountState({
        message: await sign({ ...wire, f: 2, pins: [pinRow] }),
        userId: 'u-me',
        key: me.privateKey,
      }),
    ).toEqual({ status: 'context-mismatch', mismatches: ['format'] });
    expect(
      await openAccountState({
        message: await sign({ ...wire, f: 2, pins: [[...pinRow, ['xx', 'no time']]] }),
        userId: 'u-me',
        key: me.privateKey,
      }),
    ).toEqual({
      status: 'context-mismatch',
      mismatches: ['format'],
    });
  });

  it('when one byte of the stored state changes, then not verified', async () => {
    const { message } = await sealAccountState({ state: await stateOf(me), key: me.privateKey });
    const flipped = message.slice();
    const at = flipped.length - 40;
    flipped[at] = (flipped[at] ?? 0) ^ 1;
    expect(
      (await openAccountState({ message: flipped, userId: 'u-me', key: me.privateKey })).status,
    ).toBe('bad-signature');
  });

  it('when my own signed blob is another self blob, of a newer format, or not the format, then context-mismatch purpose, unsupported-format, context-mismatch format', async () => {
    const sign = async (text: string) =>
      openpgp.encrypt({
        message: await openpgp.createMessage({ binary: new TextEncoder().encode(text + '\n') }),
        encryptionKeys: me.privateKey.key.toPublic(),
        signingKeys: me.privateKey.key,
        format: 'binary',
        config: { aeadProtect: false },
      });
    const open = async (text: string) =>
      openAccountState({ message: await sign(text), userId: 'u-me', key: me.privateKey });
    expect(await open('{"v":1,"purpose":"medseal.contacts.v1","data":{}}')).toEqual({
      status: 'context-mismatch',
      mismatches: ['purpose'],
    });
    expect(await codeOf(open('{"f":3,"p":"medseal.account-state"}'))).toBe('unsupported-format');
    expect(await open('{"f":1,"p":"medseal.account-state","u":"u-me","v":0}')).toEqual({
      status: 'context-mismatch',
      mismatches: ['format'],
    });
    expect(await open('not json')).toEqual({ status: 'context-mismatch', mismatches: ['format'] });
  });

  /** Opens a format 1 state with no pins and `extra` wire fields, sealed as the app seals one. */
  const openWire = async (extra: Record<string, unknown>) => {
    const state = await stateOf(me);
    const wire = {
      f: 1,
      p: 'medseal.account-state',
      u: 'u-me',
      v: 1,
      at: '2026-12-03T10:00:00.000Z',
      k: [state.ownKey.fingerprint, state.ownKey.keyHash],
      pins: [],
      seen: [],
      c: [],
      t: null,
      ...extra,
    };
    const data = pad(new TextEncoder().encode(JSON.stringify(wire)));
    const message = await openpgp.encrypt({
      message: await openpgp.createMessage({ binary: data }),
      encryptionKeys: me.privateKey.key.toPublic(),
      signingKeys: me.privateKey.key,
      format: 'binary',
      config: { aeadProtect: false },
    });
    return openAccountState({ message, userId: 'u-me', key: me.privateKey });
  };

  it('when a state was sealed before teams were pinned, then it opens with none; a malformed or repeated team entry, then context-mismatch format', async () => {
    const open = (tm: unknown) => openWire(tm === undefined ? {} : { tm });
    expect(await open(undefined)).toMatchObject({ status: 'verified', state: { teams: [] } });
    const row = ['team-cardiology', 'g'.repeat(43), 'ab'.repeat(20), 3, 'h'.repeat(43)];
    expect(await open([row])).toMatchObject({
      status: 'verified',
      state: { teams: [{ teamId: 'team-cardiology', root: 'ab'.repeat(20), seq: 3 }] },
    });
    for (const bad of [
      [row, row],
      [[...row.slice(0, 3), -1, row[4]]],
      [row.slice(0, 4)],
      [[...row.slice(0, 2), 'not a fingerprint', ...row.slice(3)]],
      {},
    ]) {
      expect(await open(bad)).toEqual({ status: 'context-mismatch', mismatches: ['format'] });
    }
  });

  it('when a state was sealed before deleted records were kept, then it opens with none; deleted records round-trip; a repeated or non-string id, then context-mismatch format', async () => {
    expect(await openWire({})).toMatchObject({ status: 'verified', state: { deletedRecords: [] } });
    expect(await openWire({ dr: ['rec-1', 'rec-2'] })).toMatchObject({
      status: 'verified',
      state: { deletedRecords: ['rec-1', 'rec-2'] },
    });
    const state = { ...(await stateOf(me)), deletedRecords: ['rec-gone'] };
    const { message } = await sealAccountState({ state, key: me.privateKey });
    expect(await openAccountState({ message, userId: 'u-me', key: me.privateKey })).toMatchObject({
      status: 'verified',
      state: { deletedRecords: ['rec-gone'] },
    });
    for (const bad of [['rec-1', 'rec-1'], [1], 'rec-1', {}]) {
      expect(await openWire({ dr: bad })).toEqual({
        status: 'context-mismatch',
        mismatches: ['format'],
      });
    }
  });

  it('when the state names another key than the one sealing it, then invalid-argument; a malformed state, then invalid-argument', async () => {
    expect(
      await codeOf(sealAccountState({ state: await stateOf(other), key: me.privateKey })),
    ).toBe('invalid-argument');
    const bad = { ...(await stateOf(me)), version: 0 };
    expect(await codeOf(sealAccountState({ state: bad, key: me.privateKey }))).toBe(
      'invalid-argument',
    );
  });

  it('with 1,000 pinned contacts and 10,000 records tracked, then save and load each take well under a second (bench: ≤ 50 ms)', async () => {
    const state = await stateOf(me, { pins: 1000, records: 10_000 });
    const { message } = await sealAccountState({ state, key: me.privateKey });
    const opened = await openAccountState({ message, userId: 'u-me', key: me.privateKey });
    expect(opened.status === 'verified' && Object.keys(opened.state.seen).length).toBe(10_000);
  });
});
