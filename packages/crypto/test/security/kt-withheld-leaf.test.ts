// Attack: the server logs a key for a user (or a change of a team) and leaves that one leaf out
// of the listing it gives the user (or the team's admin), so self-monitoring never sees it,
// while it serves the leaf to everyone else (issue 12). The signed head signs the subject map,
// which counts and chains every leaf of each subject: a listing that leaves one out is caught.
import {
  bindingLeafHash,
  checkOwnBindings,
  checkTeamInLog,
  encodeBinding,
  generateLogKey,
  keyIdentityOf,
  mapKey,
  mapValueAfter,
  MemoryMap,
  signTreeHead,
  teamStatementBindingOf,
  teamSubject,
  verifyKeyInLog,
  type UserKeyBinding,
} from '../../src';
import { toHex } from '../../src/encoding';
import { fixture } from '../helpers';
import { entry, person, TeamLog } from '../team-helpers';
import { memoryKt } from '../transparency-helpers';

const logKey = generateLogKey();

describe('attack: a leaf left out of a subject’s listing', () => {
  it('when the server omits the foreign key it logged for me from my listing, then self-monitoring alerts', async () => {
    const mine: UserKeyBinding = {
      v: 1,
      type: 'user-key',
      userId: 'u-victim',
      email: 'victim@example.org',
      ...(await keyIdentityOf(fixture('good.pub.asc'))),
      at: 1_000,
    };
    const attackers = { ...mine, ...(await keyIdentityOf(fixture('expired.pub.asc'))), at: 2_000 };
    const leaves = [
      encodeBinding(mine),
      encodeBinding({ ...mine, userId: 'u-other' }),
      encodeBinding(attackers),
    ];
    const kt = await memoryKt(leaves, logKey.secretKey);
    const ownKeys = [{ fingerprint: mine.fingerprint, keySha256: mine.keySha256 }];
    const map = await kt.mapProof('u-victim');
    // The listing the server gives the victim: only the victim's own key.
    expect(
      checkOwnBindings({
        head: kt.head(),
        userId: 'u-victim',
        ownKeys,
        history: [kt.proven(0)],
        map,
      }),
    ).toEqual({ status: 'foreign-key', bindings: [], withheld: 1 });
    // Told the truth, the same check names the key and its date.
    expect(
      checkOwnBindings({
        head: kt.head(),
        userId: 'u-victim',
        ownKeys,
        history: [kt.proven(0), kt.proven(2)],
        map,
      }),
    ).toMatchObject({ status: 'foreign-key', bindings: [{ index: 2, at: 2_000 }], withheld: 0 });
    // Nor can the server answer for the victim with another subject's proof, or none.
    const other = await kt.mapProof('u-other');
    expect(() =>
      checkOwnBindings({
        head: kt.head(),
        userId: 'u-victim',
        ownKeys,
        history: [kt.proven(0)],
        map: other,
      }),
    ).toThrow(expect.objectContaining({ code: 'kt-bad-proof' }));
    expect(() =>
      checkOwnBindings({
        head: kt.head(),
        userId: 'u-victim',
        ownKeys,
        history: [kt.proven(0)],
        map: { entry: null, siblings: [] },
      }),
    ).toThrow(expect.objectContaining({ code: 'kt-bad-proof' }));
  });

  // One map entry gives lookups the subject's latest leaf (lastIndex) and self-monitoring her
  // count and chain. An operator who signs an entry whose lastIndex names its own key leaf,
  // with the count and chain of her own key alone, served that key to everyone who looked her up
  // while her own check said ok (review 2026-12-07).
  it('when the map names a rogue key leaf as my latest while its count and chain leave it out, then self-monitoring refuses the map', async () => {
    const mine: UserKeyBinding = {
      v: 1,
      type: 'user-key',
      userId: 'u-victim',
      email: 'victim@example.org',
      ...(await keyIdentityOf(fixture('good.pub.asc'))),
      at: 1_000,
    };
    const rogue = { ...mine, ...(await keyIdentityOf(fixture('expired.pub.asc'))), at: 2_000 };
    const leaves = [
      encodeBinding(mine),
      encodeBinding({ ...mine, userId: 'u-other' }),
      encodeBinding(rogue),
    ];
    const kt = await memoryKt(leaves, logKey.secretKey);
    const forged = new MemoryMap();
    await forged.appendLeaf('u-other', 1, bindingLeafHash(leaves[1] ?? ''));
    await forged.set({
      key: mapKey('u-victim'),
      value: { ...mapValueAfter(null, 0, bindingLeafHash(leaves[0] ?? '')), lastIndex: 2 },
    });
    const head = signTreeHead(
      { v: 2, size: 3, root: toHex(kt.log.root()), mapRoot: forged.root, timestamp: 1_000 },
      logKey.secretKey,
    );
    const map = await forged.proof('u-victim');
    // Whoever looks her up is given the rogue key as hers...
    await expect(
      verifyKeyInLog({
        head,
        armoredKey: fixture('expired.pub.asc'),
        expect: { userId: 'u-victim' },
        proven: kt.proven(2),
        map,
      }),
    ).resolves.toMatchObject({ fingerprint: rogue.fingerprint });
    // ...so her own check must refuse that map, not say ok.
    expect(() =>
      checkOwnBindings({
        head,
        userId: 'u-victim',
        ownKeys: [{ fingerprint: mine.fingerprint, keySha256: mine.keySha256 }],
        history: [kt.proven(0)],
        map,
      }),
    ).toThrow(expect.objectContaining({ code: 'kt-map-mismatch' }));
  });

  it('when the server omits a team change it logged (an intruder added) from the admin’s listing, then the team is foreign', async () => {
    const [admin, intruder] = await Promise.all([person('Admin'), person('Intruder')]);
    const team = await TeamLog.create(admin);
    const real = { statements: [...team.statements], state: team.state };
    // A change the admin's view does not hold (the server logged it under the admin's signature
    // from another branch, or for another viewer), served to the intruder's patients.
    await team.add(entry(intruder, 'doctor'), admin);
    const leaves = [
      encodeBinding(teamStatementBindingOf(real.state, 1_000)),
      encodeBinding(teamStatementBindingOf(team.state, 2_000)),
    ];
    const kt = await memoryKt(leaves, logKey.secretKey);
    const map = await kt.mapProof(teamSubject(team.state.teamId));
    const check = (history: ReturnType<typeof kt.proven>[]) =>
      checkTeamInLog({
        head: kt.head(),
        state: real.state,
        statements: real.statements,
        history,
        map,
      });
    await expect(check([kt.proven(0)])).resolves.toEqual({
      status: 'foreign',
      leaves: [],
      withheld: 1,
    });
    await expect(check([kt.proven(0), kt.proven(1)])).resolves.toEqual({
      status: 'foreign',
      leaves: [{ index: 1, seq: 1, at: 2_000 }],
      withheld: 0,
    });
  });
});
