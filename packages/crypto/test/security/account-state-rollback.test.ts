// Issue 10 classes 2 and 5: the server hides pins or record versions by serving an older, a
// different, or a forged account state. Each is a status of its own, never an empty state.
import { openAccountState, sealAccountState } from '../../src';
import { stateOf } from '../account-state-helpers';
import { makeUser } from '../helpers';

describe('security: account state rollback and fork', () => {
  it('when the server serves the state from before a pin was added, on a device that saw the pin, then rolled-back and the old pins are not returned', async () => {
    const me = await makeUser('Me');
    const before = await sealAccountState({
      state: await stateOf(me, { version: 1, pins: 0 }),
      key: me.privateKey,
    });
    const after = await sealAccountState({
      state: await stateOf(me, { version: 2, pins: 1 }),
      key: me.privateKey,
    });
    const opened = await openAccountState({
      message: before.message,
      userId: 'u-me',
      key: me.privateKey,
      highWater: after.mark,
    });
    expect(opened.status).toBe('rolled-back');
    expect(opened).not.toHaveProperty('state');
  });

  it('when the server shows this device a second state under the version it already saw, then forked', async () => {
    const me = await makeUser('Me');
    const mine = await sealAccountState({
      state: await stateOf(me, { version: 7, records: 3 }),
      key: me.privateKey,
    });
    const theirs = await sealAccountState({
      state: await stateOf(me, { version: 7, records: 2 }),
      key: me.privateKey,
    });
    expect(
      (
        await openAccountState({
          message: theirs.message,
          userId: 'u-me',
          key: me.privateKey,
          highWater: mine.mark,
        })
      ).status,
    ).toBe('forked');
  });
});
