// Key transparency for care teams (issue 12, DESIGN §14): every team statement is a leaf, and a
// client relies on a team only when its verified history is the one the log holds; a statement
// that makes someone a member is also a leaf under that person, for her self-monitoring.
import {
  auditTeamLeaves,
  checkOwnMemberships,
  memberSubject,
  checkTeamInLog,
  encodeBinding,
  generateLogKey,
  keyIdentityOf,
  parseBinding,
  peekTeamStatement,
  replayTeamLog,
  signTreeHead,
  statementHashesSignedBy,
  teamMemberBindingOf,
  teamStatementBindingOf,
  teamSubject,
  teamStatementHash,
  type ProvenBinding,
  type SignedTreeHead,
  type TeamState,
} from '../src';
import { fixture } from './helpers';
import { entry, person, TeamLog, type Person } from './team-helpers';
import { memoryKt, type MemoryKt } from './transparency-helpers';

const logKey = generateLogKey();

let founder: Person;
let nurse: Person;
let intruder: Person;
let team: TeamLog;
/** The statements and state after seq 1 (before the nurse's removal). */
let atOne: { statements: string[]; state: TeamState };
/** Leaf texts in log order; leaf 0 is a user's key binding. */
let leaves: string[];
let kt: MemoryKt;
let head: SignedTreeHead;

const proven = (index: number, size?: number): ProvenBinding => kt.proven(index, size);
const teamHistory = () => [1, 2, 3].map((i) => proven(i));

/** checkTeamInLog with the map's lookup proof of the team under the head (`at`: another log). */
async function check(opts: {
  state: TeamState;
  statements: string[];
  history: ProvenBinding[];
  at?: MemoryKt;
  size?: number;
}) {
  const at = opts.at ?? kt;
  const size = opts.size ?? at.log.size;
  const map = await at.mapProof(teamSubject(team.state.teamId), size);
  return checkTeamInLog({
    head: at.head(size),
    state: opts.state,
    statements: opts.statements,
    history: opts.history,
    map,
  });
}

async function stateOf(statements: string[]): Promise<TeamState> {
  const result = await replayTeamLog({
    teamId: team.state.teamId,
    statements,
    publicKeys: [founder.key.publicKey, nurse.key.publicKey, intruder.key.publicKey],
  });
  if (result.status !== 'verified') throw new Error(`replay: ${result.status}`);
  return result.state;
}

beforeAll(async () => {
  [founder, nurse, intruder] = await Promise.all([
    person('Founder'),
    person('Nurse'),
    person('Intruder'),
  ]);
  team = await TeamLog.create(founder);
  leaves = [
    encodeBinding({
      v: 1,
      type: 'user-key',
      userId: founder.id,
      email: 'founder@example.org',
      ...(await keyIdentityOf(fixture('good.pub.asc'))),
      at: 500,
    }),
  ];
  const logged = () =>
    leaves.push(encodeBinding(teamStatementBindingOf(team.state, 1_000 + leaves.length)));
  logged();
  await team.add(entry(nurse, 'nurse'), founder);
  logged();
  atOne = { statements: [...team.statements], state: team.state };
  await team.remove(nurse.id, founder);
  logged();
  kt = await memoryKt(leaves, logKey.secretKey);
  head = kt.head();
});

/**
 * The log after the founder equivocates: a second statement at change 2 (adding the intruder),
 * logged after the real history: the forked team, the log's signed head and each leaf with its
 * inclusion proof.
 */
async function equivocated() {
  const fork = team.fork();
  fork.state = atOne.state;
  fork.statements.splice(2);
  await fork.add(entry(intruder, 'doctor'), founder);
  const forked = [...leaves, encodeBinding(teamStatementBindingOf(fork.state, 2_000))];
  const forkedKt = await memoryKt(forked, logKey.secretKey);
  return {
    fork,
    forkedKt,
    forkedHead: forkedKt.head(),
    inForked: (index: number) => forkedKt.proven(index),
  };
}

describe('checkTeamInLog', () => {
  it('when every statement of the history is logged with its key, then the team is proven', async () => {
    expect(
      await check({ state: team.state, statements: team.statements, history: teamHistory() }),
    ).toEqual({ status: 'ok' });
    const leaf = parseBinding(leaves[3] ?? '');
    expect(leaf).toMatchObject({
      type: 'team-statement',
      teamId: team.state.teamId,
      seq: 2,
      statementHash: team.state.head,
      genesis: team.state.genesis,
    });
    expect(encodeBinding(leaf)).toBe(leaves[3]);
  });

  it('when the listing holds only some of the team’s leaves, then the ones left out are withheld (the map counts them)', async () => {
    expect(
      await check({ state: team.state, statements: team.statements, history: [proven(3)] }),
    ).toEqual({ status: 'foreign', leaves: [], withheld: 2 });
    expect(await check({ state: team.state, statements: team.statements, history: [] })).toEqual({
      status: 'foreign',
      leaves: [],
      withheld: 3,
    });
  });

  it('when the server shows an older history (the removal hidden), then the logged removal is a foreign leaf with its date', async () => {
    expect(
      await check({ state: atOne.state, statements: atOne.statements, history: teamHistory() }),
    ).toEqual({
      status: 'foreign',
      leaves: [{ index: 3, seq: 2, at: 1_003 }],
      withheld: 0,
    });
  });

  it('when the server shows a history it never logged, then not-logged', async () => {
    // The tree of 3 leaves holds changes 0 and 1 only; the history shown ends at change 2.
    expect(
      await check({
        state: team.state,
        statements: team.statements,
        history: [proven(1, 3), proven(2, 3)],
        size: 3,
      }),
    ).toEqual({ status: 'not-logged' });
  });

  it('when an admin equivocates (a second statement at one seq, adding an intruder), then its leaf is foreign to the real history', async () => {
    const { fork, forkedKt, inForked } = await equivocated();
    const history = [1, 2, 3, 4].map(inForked);
    expect(
      await check({ at: forkedKt, state: team.state, statements: team.statements, history }),
    ).toEqual({
      status: 'foreign',
      leaves: [{ index: 4, seq: 2, at: 2_000 }],
      withheld: 0,
    });
    // The forked branch's own history sees the real removal as foreign just the same.
    expect(await stateOf(fork.statements)).toEqual(fork.state);
    expect(
      await check({ at: forkedKt, state: fork.state, statements: fork.statements, history }),
    ).toMatchObject({
      status: 'foreign',
      leaves: [{ index: 3, seq: 2 }],
    });
  });

  it('when a leaf names the right statement with another team key, then it is foreign', async () => {
    const swapped = {
      ...teamStatementBindingOf(team.state, 3_000),
      teamKeyHash: team.teamKeys[0]?.ref.keyHash ?? '',
    };
    const withSwap = await memoryKt([...leaves, encodeBinding(swapped)], logKey.secretKey);
    const history = [1, 2, 3, 4].map((i) => withSwap.proven(i));
    expect(
      await check({ at: withSwap, state: team.state, statements: team.statements, history }),
    ).toEqual({
      status: 'foreign',
      leaves: [{ index: 4, seq: 2, at: 3_000 }],
      withheld: 0,
    });
  });

  it('when the history holds a user key, another team, a bad proof or a malformed leaf, then a stable code', async () => {
    const checkHistory = (history: ProvenBinding[]) =>
      check({ state: team.state, statements: team.statements, history });
    await expect(checkHistory([proven(0)])).rejects.toMatchObject({ code: 'kt-binding-mismatch' });
    const other = encodeBinding({ ...teamStatementBindingOf(team.state, 1), teamId: 'team-other' });
    await expect(
      checkHistory([{ leaf: { index: 3, data: other }, proof: proven(3).proof }]),
    ).rejects.toMatchObject({ code: 'kt-binding-mismatch' });
    await expect(checkHistory([{ ...proven(3), proof: proven(2).proof }])).rejects.toMatchObject({
      code: 'kt-bad-proof',
    });
    await expect(
      checkHistory([{ ...proven(2), leaf: { index: 3, data: leaves[2] ?? '' } }]),
    ).rejects.toMatchObject({ code: 'kt-bad-proof' });
    const negative = (leaves[3] ?? '').replace('"seq":2', '"seq":-1');
    await expect(
      checkHistory([{ leaf: { index: 3, data: negative }, proof: [] }]),
    ).rejects.toMatchObject({ code: 'kt-malformed' });
    await expect(
      check({ state: atOne.state, statements: team.statements, history: [proven(3)] }),
    ).rejects.toMatchObject({ code: 'invalid-argument' });
  });

  it('when the map proof is wrong, from another tree, or the head has no map, then the team is refused', async () => {
    const map = await kt.mapProof(teamSubject(team.state.teamId));
    const run = (h: SignedTreeHead, m: typeof map) =>
      checkTeamInLog({
        head: h,
        state: team.state,
        statements: team.statements,
        history: teamHistory(),
        map: m,
      });
    const sibling = map.siblings[0] ?? '';
    const flipped = {
      ...map,
      siblings: [(sibling[0] === '0' ? '1' : '0') + sibling.slice(1), ...map.siblings.slice(1)],
    };
    await expect(run(head, flipped)).rejects.toMatchObject({ code: 'kt-bad-proof' });
    await expect(
      run(head, await kt.mapProof(teamSubject(team.state.teamId), 3)),
    ).rejects.toMatchObject({ code: 'kt-bad-proof' });
    await expect(run(head, { entry: null, siblings: [] })).rejects.toMatchObject({
      code: 'kt-bad-proof',
    });
    const { mapRoot: _unused, ...rest } = head.v === 2 ? head : { ...head, mapRoot: '' };
    const v1 = signTreeHead({ ...rest, v: 1 }, logKey.secretKey);
    await expect(run(v1, map)).rejects.toMatchObject({ code: 'kt-no-map' });
  });
});

describe('auditTeamLeaves (the public auditor, without statements)', () => {
  let map: Awaited<ReturnType<MemoryKt['mapProof']>>;
  beforeAll(async () => {
    map = await kt.mapProof(teamSubject(team.state.teamId));
  });
  const audit =
    (history: ProvenBinding[], known: string[] = [], at = head, atMap = map) =>
    () =>
      auditTeamLeaves({ head: at, teamId: team.state.teamId, history, map: atMap, known });

  it('when the team has one leaf per change from its creation, then the chain of statement hashes comes back', async () => {
    const hashes = audit(teamHistory())();
    expect(hashes).toHaveLength(3);
    expect(hashes[2]).toBe(team.state.head);
    expect(audit(teamHistory(), hashes.slice(0, 2))()).toEqual(hashes);
  });

  it('when two statements are logged for one change, a change is missing, or a change seen before is replaced or gone, then kt-team-fork or kt-team-gap', async () => {
    const { forkedKt, forkedHead, inForked } = await equivocated();
    const forkedMap = await forkedKt.mapProof(teamSubject(team.state.teamId));
    expect(audit([1, 2, 3, 4].map(inForked), [], forkedHead, forkedMap)).toThrow(
      expect.objectContaining({ code: 'kt-team-fork' }),
    );
    expect(audit([proven(1), proven(3)])).toThrow(expect.objectContaining({ code: 'kt-team-gap' }));
    const hashes = audit(teamHistory())();
    expect(audit([proven(1), proven(2)], hashes)).toThrow(
      expect.objectContaining({ code: 'kt-team-gap' }),
    );
    expect(audit(teamHistory(), [hashes[0] ?? '', 'x'.repeat(43)])).toThrow(
      expect.objectContaining({ code: 'kt-team-fork' }),
    );
    expect(audit([proven(0)])).toThrow(expect.objectContaining({ code: 'kt-binding-mismatch' }));
  });

  // A seq is the server's word: one in the billions once made the auditor build an array that long.
  it('when a leaf claims a change number in the billions, then kt-team-gap at once', async () => {
    const last = parseBinding(leaves[3] ?? '');
    if (last.type !== 'team-statement') throw new Error('leaf 3 is not a team statement');
    const far = [...leaves, encodeBinding({ ...last, seq: 2 ** 31 })];
    const farKt = await memoryKt(far, logKey.secretKey);
    const farMap = await farKt.mapProof(teamSubject(team.state.teamId));
    expect(
      audit(
        [1, 2, 3, 4].map((i) => farKt.proven(i)),
        [],
        farKt.head(),
        farMap,
      ),
    ).toThrow(expect.objectContaining({ code: 'kt-team-gap', details: { seq: 3 } }));
  });

  it('when the listing leaves out the team’s latest change, then kt-map-mismatch (the map counts it)', () => {
    expect(audit([proven(1), proven(2)])).toThrow(
      expect.objectContaining({ code: 'kt-map-mismatch' }),
    );
  });
});

describe('checkOwnMemberships (self-monitoring of the teams that name me)', () => {
  /** The nurse's member leaves: the add (signed by the founder), with a user key leaf before. */
  async function memberLog() {
    const nurseTeam = await TeamLog.create(founder, { teamId: 'team-nurse' });
    await nurseTeam.add(entry(nurse, 'nurse'), founder);
    const statementOf = async (seq: number) => peekTeamStatement(nurseTeam.statements[seq] ?? '');
    const leafFor = async (seq: number, at: number) => {
      const statement = await statementOf(seq);
      const binding = teamMemberBindingOf({
        state: nurseTeam.state,
        statement,
        statementHash: await teamStatementHash(statement),
        at,
      });
      if (!binding) throw new Error(`statement ${seq} names no member`);
      return encodeBinding(binding);
    };
    const data = [leaves[0] ?? '', await leafFor(0, 4_000), await leafFor(1, 4_001)];
    const memKt = await memoryKt(data, logKey.secretKey);
    const memHead = memKt.head(data.length, 4_000);
    const inLog = (index: number) => memKt.proven(index);
    const mapOf = (userId: string) => memKt.mapProof(memberSubject(userId));
    return { nurseTeam, memHead, inLog, statementOf, mapOf };
  }

  it("when someone else's key added me to a team, then the membership comes back with the team, role, signer and date", async () => {
    const { nurseTeam, memHead, inLog, mapOf } = await memberLog();
    expect(
      checkOwnMemberships({
        head: memHead,
        userId: nurse.id,
        ownFingerprints: [nurse.key.fingerprint],
        history: [inLog(2)],
        map: await mapOf(nurse.id),
      }),
    ).toEqual({
      status: 'unknown-membership',
      memberships: [
        {
          index: 2,
          teamId: 'team-nurse',
          genesis: nurseTeam.state.genesis,
          seq: 1,
          statementHash: nurseTeam.state.head,
          teamName: 'Cardiology',
          practiceName: "St Mary's",
          role: 'nurse',
          admin: false,
          by: founder.key.fingerprint,
          at: 4_001,
        },
      ],
      withheld: 0,
    });
  });

  it('when the server leaves a membership out of my listing, then it counts as withheld (the map counts it)', async () => {
    const { memHead, mapOf } = await memberLog();
    const founderMap = await mapOf(founder.id);
    expect(
      checkOwnMemberships({
        head: memHead,
        userId: nurse.id,
        ownFingerprints: [nurse.key.fingerprint],
        history: [],
        map: await mapOf(nurse.id),
      }),
    ).toEqual({
      status: 'unknown-membership',
      memberships: [],
      withheld: 1,
    });
    // A map proof for someone else's entry is not mine.
    expect(() =>
      checkOwnMemberships({
        head: memHead,
        userId: nurse.id,
        ownFingerprints: [],
        history: [],
        map: founderMap,
      }),
    ).toThrow(expect.objectContaining({ code: 'kt-bad-proof' }));
  });

  it('when the only membership is the team I founded (signed with my key), then its statement is asked for, and with it ok', async () => {
    const { nurseTeam, memHead, inLog, mapOf } = await memberLog();
    const opts = {
      head: memHead,
      userId: founder.id,
      ownFingerprints: [founder.key.fingerprint],
      history: [inLog(1)],
      map: await mapOf(founder.id),
    };
    expect(checkOwnMemberships(opts)).toEqual({
      status: 'confirm-own',
      leaves: [{ teamId: 'team-nurse', seq: 0 }],
    });
    const ownStatementHashes = await statementHashesSignedBy(
      [nurseTeam.statements[0] ?? ''],
      founder.key.publicKey,
    );
    expect(checkOwnMemberships({ ...opts, ownStatementHashes })).toEqual({ status: 'ok' });
  });

  // The statement must be the one at the leaf's place: a statement she signed for another team
  // (her own team's creation) must not stand in for a membership of the operator's team.
  it('when a membership leaf names my key as its signer over the hash of a statement I signed for another team, then it is shown to me', async () => {
    const mine = await TeamLog.create(nurse, { teamId: 'team-mine' });
    const rogueTeam = await TeamLog.create(intruder, { teamId: 'team-rogue-2' });
    await rogueTeam.add(entry(nurse, 'doctor'), intruder);
    const statement = await peekTeamStatement(rogueTeam.statements[1] ?? '');
    const binding = teamMemberBindingOf({
      state: rogueTeam.state,
      statement,
      statementHash: await teamStatementHash(statement),
      at: 5_000,
    });
    if (!binding) throw new Error('the add names no member');
    const reused = {
      ...binding,
      by: nurse.key.fingerprint,
      statementHash: await teamStatementHash(await peekTeamStatement(mine.statements[0] ?? '')),
    };
    const data = [leaves[0] ?? '', encodeBinding(reused)];
    const memKt = await memoryKt(data, logKey.secretKey);
    const result = checkOwnMemberships({
      head: memKt.head(data.length, 5_000),
      userId: nurse.id,
      ownFingerprints: [nurse.key.fingerprint],
      history: [memKt.proven(1)],
      map: await memKt.mapProof(memberSubject(nurse.id)),
      ownStatementHashes: await statementHashesSignedBy(
        [...mine.statements, ...rogueTeam.statements],
        nurse.key.publicKey,
      ),
    });
    expect(result).toMatchObject({
      status: 'unknown-membership',
      memberships: [{ teamId: 'team-rogue-2', seq: 1, by: nurse.key.fingerprint }],
    });
  });

  // The leaf's `by` is the server's word (it builds the leaf): a statement someone else signed,
  // logged as signed by her, is still shown to her.
  it('when a membership leaf names my key as its signer over a statement another key signed, then it is shown to me', async () => {
    const rogueTeam = await TeamLog.create(intruder, { teamId: 'team-rogue' });
    await rogueTeam.add(entry(nurse, 'doctor'), intruder);
    const statement = await peekTeamStatement(rogueTeam.statements[1] ?? '');
    const binding = teamMemberBindingOf({
      state: rogueTeam.state,
      statement,
      statementHash: await teamStatementHash(statement),
      at: 5_000,
    });
    if (!binding) throw new Error('the add names no member');
    const data = [leaves[0] ?? '', encodeBinding({ ...binding, by: nurse.key.fingerprint })];
    const memKt = await memoryKt(data, logKey.secretKey);
    const result = checkOwnMemberships({
      head: memKt.head(data.length, 5_000),
      userId: nurse.id,
      ownFingerprints: [nurse.key.fingerprint],
      history: [memKt.proven(1)],
      map: await memKt.mapProof(memberSubject(nurse.id)),
      ownStatementHashes: await statementHashesSignedBy(rogueTeam.statements, nurse.key.publicKey),
    });
    expect(result).toMatchObject({
      status: 'unknown-membership',
      memberships: [{ teamId: 'team-rogue', seq: 1, by: nurse.key.fingerprint }],
    });
  });

  it('when a statement makes nobody a member (a removal, a rotation), then it has no member leaf', async () => {
    const { nurseTeam } = await memberLog();
    await nurseTeam.remove(nurse.id, founder);
    const statement = await peekTeamStatement(nurseTeam.statements[2] ?? '');
    expect(
      teamMemberBindingOf({
        state: nurseTeam.state,
        statement,
        statementHash: await teamStatementHash(statement),
        at: 1,
      }),
    ).toBeNull();
  });

  it("when the history holds another account's membership, a user key, a bad proof or a malformed leaf, then a stable code", async () => {
    const { memHead, inLog, mapOf } = await memberLog();
    const nurseMap = await mapOf(nurse.id);
    const founderMap = await mapOf(founder.id);
    const check =
      (history: ProvenBinding[], userId: string = nurse.id) =>
      () =>
        checkOwnMemberships({
          head: memHead,
          userId,
          ownFingerprints: [],
          history,
          map: userId === founder.id ? founderMap : nurseMap,
        });
    expect(check([inLog(2)], founder.id)).toThrow(
      expect.objectContaining({ code: 'kt-binding-mismatch' }),
    );
    expect(check([inLog(0)])).toThrow(expect.objectContaining({ code: 'kt-binding-mismatch' }));
    expect(check([{ ...inLog(2), proof: inLog(1).proof }])).toThrow(
      expect.objectContaining({ code: 'kt-bad-proof' }),
    );
    const promoted = inLog(2).leaf.data.replace('"admin":false', '"admin":"yes"');
    expect(check([{ leaf: { index: 2, data: promoted }, proof: inLog(2).proof }])).toThrow(
      expect.objectContaining({ code: 'kt-malformed' }),
    );
    // A leaf the server made up (promoting me) is not the one logged.
    const upgraded = inLog(2).leaf.data.replace('"admin":false', '"admin":true');
    expect(check([{ leaf: { index: 2, data: upgraded }, proof: inLog(2).proof }])).toThrow(
      expect.objectContaining({ code: 'kt-bad-proof' }),
    );
    expect(parseBinding(inLog(2).leaf.data)).toMatchObject({
      type: 'team-member',
      userId: nurse.id,
      seq: 1,
    });
  });
});
