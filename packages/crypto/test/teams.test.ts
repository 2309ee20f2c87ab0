import {
  applyTeamStatement,
  attestationOf,
  checkTeamPublicKey,
  createGrant,
  createTeamGrant,
  currentTeamKey,
  generateTeamKey,
  openRecord,
  peekTeamStatement,
  replayTeamLog,
  sealRecord,
  signTeamStatement,
  teamKeyAt,
  teamKeyRef,
  unwrapTeamKey,
  verifyTeamGrant,
  wrapTeamKey,
  type RecordId,
  type UserId,
} from '../src';
import { codeOf, sampleEnvelope } from './helpers';
import { entry, person, TEAM_ID, TeamLog, type Person } from './team-helpers';

let admin: Person;
let drA: Person;
let drB: Person;
let outsider: Person;
beforeAll(async () => {
  [admin, drA, drB, outsider] = await Promise.all([
    person('Admin'),
    person('DrA'),
    person('DrB'),
    person('Outsider'),
  ]);
});

const keysOf = (...people: Person[]) => people.map((p) => p.key.publicKey as string);

describe('team statements', () => {
  it('when an admin creates a team and adds two doctors, then a replay gives exactly those members and the first key', async () => {
    const log = await TeamLog.create(admin);
    await log.add(entry(drA), admin);
    await log.add(entry(drB, 'nurse'), admin);
    const result = await replayTeamLog({
      teamId: TEAM_ID,
      statements: log.statements,
      publicKeys: keysOf(admin),
    });
    if (result.status !== 'verified') throw new Error(JSON.stringify(result));
    expect(result.state.members.map((m) => [m.userId, m.role, m.admin])).toEqual(
      [
        [admin.id, 'doctor', true],
        [drA.id, 'doctor', false],
        [drB.id, 'nurse', false],
      ].sort((a, b) => String(a[0]).localeCompare(String(b[0]))),
    );
    expect(result.state).toMatchObject({
      teamId: TEAM_ID,
      name: 'Cardiology',
      practiceName: "St Mary's",
      seq: 2,
    });
    expect(result.state.root).toEqual({ userId: admin.id, fingerprint: admin.key.fingerprint });
    expect(currentTeamKey(result.state)).toMatchObject({ gen: 1, ...log.teamKeys[0]?.ref });
    expect(result.state).toEqual(log.state);
  });

  it('when a member is removed, then the same statement retires the key and names the next one', async () => {
    const log = await TeamLog.create(admin);
    await log.add(entry(drA), admin);
    await log.remove(drA.id, admin);
    expect(log.state.members.map((m) => m.userId)).toEqual([admin.id]);
    expect(log.state.keys.map((k) => k.gen)).toEqual([1, 2]);
    expect(log.state.keys[0]?.until).toBe(log.state.at);
    expect(currentTeamKey(log.state).fingerprint).toBe(log.currentTeamKey.ref.fingerprint);
  });

  it('when an admin promotes a member, then the member may sign statements; a demoted admin no longer may', async () => {
    const log = await TeamLog.create(admin);
    await log.add(entry(drA), admin);
    await log.sign({ type: 'update', userId: drA.id, role: 'doctor', admin: true }, admin);
    await log.add(entry(drB), drA);
    await log.sign({ type: 'update', userId: drA.id, role: 'doctor', admin: false }, admin);
    expect(await codeOf(log.add(entry(outsider), drA))).toBe('not-team-admin');
    const result = await replayTeamLog({
      teamId: TEAM_ID,
      statements: log.statements,
      publicKeys: keysOf(admin, drA),
    });
    expect(result.status).toBe('verified');
  });

  it.each([
    ['adding a member twice', 'already-member', async (log: TeamLog) => log.add(entry(drA), admin)],
    ['removing a non-member', 'not-member', async (log: TeamLog) => log.remove(outsider.id, admin)],
    ['removing the last admin', 'last-admin', async (log: TeamLog) => log.remove(admin.id, admin)],
    [
      'demoting the last admin',
      'last-admin',
      async (log: TeamLog) =>
        log.sign({ type: 'update', userId: admin.id, role: 'doctor', admin: false }, admin),
    ],
    [
      'an update that changes nothing',
      'no-change',
      async (log: TeamLog) =>
        log.sign({ type: 'update', userId: drA.id, role: 'doctor', admin: false }, admin),
    ],
    [
      'rotating back to a key the team had',
      'key-reused',
      async (log: TeamLog) =>
        log.sign(
          { type: 'rotate', teamKey: log.teamKeys[0]?.ref ?? log.currentTeamKey.ref },
          admin,
        ),
    ],
    [
      'dating a statement before the previous one',
      'time-went-back',
      async (log: TeamLog) =>
        log.sign(
          { type: 'rotate', teamKey: (await generateTeamKey()).ref },
          admin,
          new Date(Date.parse(log.state.at) - 1000),
        ),
    ],
  ])(
    'when an admin signs %s, then team-rule-violated (%s) and the state is unchanged',
    async (_what, rule, act) => {
      const log = await TeamLog.create(admin);
      await log.add(entry(drA), admin);
      const before = log.state;
      const error = await act(log).then(
        () => null,
        (e: unknown) => e as { code: string; details?: { rule: string } },
      );
      expect(error?.code).toBe('team-rule-violated');
      expect(error?.details?.rule).toBe(rule);
      expect(log.state).toBe(before);
    },
  );

  it('when a statement is given to apply after a state it does not follow, then team-chain-broken', async () => {
    const log = await TeamLog.create(admin);
    const afterCreate = log.state;
    await log.add(entry(drA), admin);
    const addA = log.statements[1] ?? '';
    await log.add(entry(drB), admin);
    const addB = log.statements[2] ?? '';
    // skipping a statement, and applying one twice
    expect(
      await codeOf(
        applyTeamStatement({
          state: afterCreate,
          signed: addB,
          signerPublicKey: admin.key.publicKey,
        }),
      ),
    ).toBe('team-chain-broken');
    expect(
      await codeOf(
        applyTeamStatement({
          state: log.state,
          signed: addA,
          signerPublicKey: admin.key.publicKey,
        }),
      ),
    ).toBe('team-chain-broken');
    // another team's creation
    const other = await TeamLog.create(admin, { teamId: 'team-other' });
    expect(
      await codeOf(
        applyTeamStatement({
          state: null,
          signed: other.statements[0] ?? '',
          signerPublicKey: admin.key.publicKey,
          teamId: TEAM_ID,
        }),
      ),
    ).toBe('team-chain-broken');
  });

  it('when the given key is not the named admin key, or the signature is by another key, then not-team-admin / bad-signature', async () => {
    const log = await TeamLog.create(admin);
    const state = log.state;
    await log.add(entry(drA), admin);
    const signed = log.statements[1] ?? '';
    expect(
      await codeOf(applyTeamStatement({ state, signed, signerPublicKey: outsider.key.publicKey })),
    ).toBe('not-team-admin');
    // A statement naming the admin but signed by the outsider's key.
    const forged = await signTeamStatement({
      state,
      change: { type: 'add', member: entry(outsider) },
      signerId: outsider.id,
      signerKey: outsider.key.privateKey,
    }).catch((e: { code: string }) => e.code);
    expect(forged).toBe('not-team-admin');
  });

  it('when a statement of a newer format is met, then unsupported-format; garbage is team-statement-malformed', async () => {
    expect(await codeOf(peekTeamStatement('not a message'))).toBe('team-statement-malformed');
    expect(await codeOf(peekTeamStatement('x'.repeat(20_000)))).toBe('team-statement-malformed');
    const { parseTeamStatement } = await import('../src');
    expect(() => parseTeamStatement({ v: 2 })).toThrow(
      expect.objectContaining({ code: 'unsupported-format' }),
    );
    expect(() => parseTeamStatement({ v: 1, teamId: TEAM_ID })).toThrow(
      expect.objectContaining({ code: 'team-statement-malformed' }),
    );
  });

  it.each([
    ['a bidi override', 'St\u202eMary'],
    ['a line separator', 'Cardio\u2028Dr Ann'],
    ['a paragraph separator', 'Cardio\u2029Dr Ann'],
  ])('when a name holds %s, then the change is refused before signing', async (_what, name) => {
    const teamKey = (await generateTeamKey()).ref;
    for (const names of [
      { practiceName: name, name: 'X' },
      { practiceName: 'St Mary', name },
    ]) {
      expect(
        await codeOf(
          signTeamStatement({
            state: null,
            teamId: TEAM_ID,
            change: {
              type: 'create',
              practiceId: 'p',
              ...names,
              founder: entry(admin, 'doctor', true),
              teamKey,
            },
            signerId: admin.id,
            signerKey: admin.key.privateKey,
          }),
        ),
      ).toBe('invalid-argument');
    }
  });
});

describe('team key envelopes', () => {
  it('when the admin wraps the team key for a member, then only that member unwraps it, and it opens a record sealed to the team', async () => {
    const team = await generateTeamKey();
    const context = { teamId: TEAM_ID, gen: 1, memberId: drA.id };
    const envelope = await wrapTeamKey({
      teamKey: team.privateKey,
      context,
      memberPublicKey: drA.key.publicKey,
    });
    expect(envelope.length).toBeLessThan(4096);
    const unwrapped = await unwrapTeamKey({
      message: envelope,
      myKey: drA.key.privateKey,
      context,
      expected: team.ref,
    });
    expect(unwrapped.fingerprint).toBe(team.ref.fingerprint);
    expect(
      await codeOf(
        unwrapTeamKey({
          message: envelope,
          myKey: outsider.key.privateKey,
          context,
          expected: team.ref,
        }),
      ),
    ).toBe('decryption-failed');

    const { message, envelope: sealed } = await sealRecord({
      envelope: sampleEnvelope,
      authorKey: admin.key.privateKey,
      recipientKeys: [admin.key.publicKey, team.publicKey],
    });
    const opened = await openRecord({
      message,
      myKey: unwrapped,
      expect: {
        ...sampleEnvelope,
        authorPublicKey: admin.key.publicKey,
        recipients: sealed.recipients,
      },
    });
    expect(opened.status).toBe('verified');
  });

  it('when the envelope names another team, generation or member, or holds another key, then team-key-mismatch', async () => {
    const team = await generateTeamKey();
    const other = await generateTeamKey();
    const context = { teamId: TEAM_ID, gen: 2, memberId: drA.id };
    const envelope = await wrapTeamKey({
      teamKey: team.privateKey,
      context,
      memberPublicKey: drA.key.publicKey,
    });
    const unwrap = (over: Partial<typeof context>, expected = team.ref) =>
      codeOf(
        unwrapTeamKey({
          message: envelope,
          myKey: drA.key.privateKey,
          context: { ...context, ...over },
          expected,
        }),
      );
    expect(await unwrap({ teamId: 'team-other' })).toBe('team-key-mismatch');
    expect(await unwrap({ gen: 1 })).toBe('team-key-mismatch');
    expect(await unwrap({ memberId: drB.id })).toBe('team-key-mismatch');
    expect(await unwrap({}, other.ref)).toBe('team-key-mismatch');
    expect(await unwrap({}, { ...team.ref, keyHash: other.ref.keyHash })).toBe('team-key-mismatch');
  });

  it('when a team public key is checked against the statement reference, then only the exact key passes', async () => {
    const team = await generateTeamKey();
    const other = await generateTeamKey();
    expect(
      (await checkTeamPublicKey({ publicKey: team.publicKey, expected: team.ref })).fingerprint,
    ).toBe(team.ref.fingerprint);
    expect(
      await codeOf(checkTeamPublicKey({ publicKey: other.publicKey, expected: team.ref })),
    ).toBe('team-key-mismatch');
    expect(await codeOf(checkTeamPublicKey({ publicKey: 'junk', expected: team.ref }))).toBe(
      'invalid-key',
    );
    expect(await teamKeyRef(team.publicKey)).toEqual(team.ref);
  });
});

describe('team grants', () => {
  it('when a patient signs a team grant, then it verifies with her key only; a person grant is not a team grant', async () => {
    const log = await TeamLog.create(admin);
    const grantInput = {
      recordId: 'rec-1',
      teamId: TEAM_ID,
      genesis: log.state.genesis,
      grantedBy: 'u-patient',
    };
    const { signedGrant, grant } = await createTeamGrant({
      grant: grantInput,
      signerKey: outsider.key.privateKey,
    });
    expect(await verifyTeamGrant({ signedGrant, signerPublicKey: outsider.key.publicKey })).toEqual(
      { status: 'verified', grant },
    );
    expect(await verifyTeamGrant({ signedGrant, signerPublicKey: drA.key.publicKey })).toEqual({
      status: 'bad-signature',
    });
    const person = await createGrant({
      grant: {
        recordId: 'rec-1' as RecordId,
        granteeUserId: drA.id,
        granteeFingerprint: drA.key.fingerprint,
        grantedBy: 'u-patient' as UserId,
      },
      signerKey: outsider.key.privateKey,
    });
    expect(
      await verifyTeamGrant({
        signedGrant: person.signedGrant,
        signerPublicKey: outsider.key.publicKey,
      }),
    ).toEqual({ status: 'bad-signature' });
    expect(
      await codeOf(
        createTeamGrant({
          grant: { ...grantInput, genesis: 'short' },
          signerKey: outsider.key.privateKey,
        }),
      ),
    ).toBe('invalid-argument');
  });
});

describe('team state questions', () => {
  it('when keys rotate, then teamKeyAt gives the key of each moment and nothing before the team', async () => {
    const t0 = new Date('2026-12-01T10:00:00.000Z');
    const log = await TeamLog.create(admin, { at: t0 });
    await log.sign(
      { type: 'add', member: entry(drA) },
      admin,
      new Date('2026-12-01T11:00:00.000Z'),
    );
    const next = await generateTeamKey();
    await log.sign(
      { type: 'remove', userId: drA.id, teamKey: next.ref },
      admin,
      new Date('2026-12-01T12:00:00.000Z'),
    );
    expect(teamKeyAt(log.state, '2026-12-01T09:59:59.999Z')).toBeUndefined();
    expect(teamKeyAt(log.state, '2026-12-01T11:59:59.999Z')?.gen).toBe(1);
    expect(teamKeyAt(log.state, '2026-12-01T12:00:00.000Z')?.gen).toBe(2);
    expect(teamKeyAt(log.state, new Date('2027-01-01T00:00:00.000Z'))?.fingerprint).toBe(
      next.ref.fingerprint,
    );
  });

  it('when a member is asked about, then the attestation needs the exact key; removed members have none', async () => {
    const log = await TeamLog.create(admin);
    await log.add(entry(drA), admin);
    expect(
      attestationOf(log.state, { userId: drA.id, fingerprint: drA.key.fingerprint }),
    ).toMatchObject({
      teamName: 'Cardiology',
      practiceName: "St Mary's",
      role: 'doctor',
      admin: false,
      signedBy: admin.id,
      rootFingerprint: admin.key.fingerprint,
    });
    expect(
      attestationOf(log.state, { userId: drA.id, fingerprint: outsider.key.fingerprint }),
    ).toBeNull();
    await log.remove(drA.id, admin);
    expect(
      attestationOf(log.state, { userId: drA.id, fingerprint: drA.key.fingerprint }),
    ).toBeNull();
  });

  it('when the log is replayed with the signer keys missing, then invalid at the first statement that needs one', async () => {
    const log = await TeamLog.create(admin);
    await log.add(entry(drA), admin);
    const result = await replayTeamLog({
      teamId: TEAM_ID,
      statements: log.statements,
      publicKeys: keysOf(drA),
    });
    expect(result).toMatchObject({ status: 'invalid', seq: 0, code: 'bad-signature' });
    expect(await replayTeamLog({ teamId: TEAM_ID, statements: [], publicKeys: [] })).toMatchObject({
      status: 'invalid',
      code: 'team-chain-broken',
    });
  });

  it('user ids in changes are checked like ids', async () => {
    const log = await TeamLog.create(admin);
    expect(await codeOf(log.add({ ...entry(drA), userId: 'bad id' as UserId }, admin))).toBe(
      'invalid-argument',
    );
  });
});
