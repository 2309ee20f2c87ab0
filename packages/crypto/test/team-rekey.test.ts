// Re-keying a record after a leave (DESIGN §12–§13, docs/care-teams.md "Re-keying"): the admin's
// re-key version carries only a signed statement naming its base version (number, message hash,
// session key); a reader opens the base with that session key and shows the base's content under
// its own author's signature. Whatever the admin or the server does, the content cannot change.
import {
  createRecipientPacket,
  createTeamGrant,
  dataSha256,
  openRecord,
  rekeyAddsNoReader,
  sealRecord,
  sealRekey,
  type Fingerprint,
  type RecordExpectation,
  type RecordId,
} from '../src';
import { addRecipientPacket } from '../src/inspect';
import { parseRekeyStatement } from '../src/rekey';
import { entry, person, TeamLog, type Person } from './team-helpers';

let patient: Person;
let admin: Person;
let stayer: Person;
let leaver: Person;
let log: TeamLog;
const recordId = 'rec-rekey-1' as RecordId;
let base: string;
let teamGrants: NonNullable<RecordExpectation['teamGrants']>;
let retired: TeamLog['currentTeamKey'];

beforeAll(async () => {
  [patient, admin, stayer, leaver] = await Promise.all([
    person('Pat'),
    person('Admin'),
    person('Stayer'),
    person('Leaver'),
  ]);
  log = await TeamLog.create(admin);
  await log.add(entry(stayer), admin);
  await log.add(entry(leaver), admin);
  // Version 1: the patient's own note, shared with the team (one PKESK + a team grant), with no
  // consent for the team to write for her.
  const { message } = await sealRecord({
    envelope: {
      recordId,
      version: 1,
      ownerId: patient.id,
      authorId: patient.id,
      createdAt: new Date().toISOString(),
      content: { title: 'Allergy', body: 'Penicillin' },
    },
    authorKey: patient.key.privateKey,
    recipientKeys: [patient.key.publicKey],
  });
  retired = log.currentTeamKey;
  base = await addRecipientPacket(
    message,
    await createRecipientPacket({
      message,
      myKey: patient.key.privateKey,
      newRecipientKey: retired.publicKey,
    }),
  );
  const { signedGrant } = await createTeamGrant({
    grant: {
      recordId,
      teamId: log.state.teamId,
      genesis: log.state.genesis,
      grantedBy: patient.id,
    },
    signerKey: patient.key.privateKey,
  });
  teamGrants = [{ signedGrant, signerPublicKey: patient.key.publicKey }];
  await log.remove(leaver.id, admin);
});

/** What a reader expects of version 2, as the server lists it (the patient and the team's current key), re-keyed by `by`. */
function rekeyExpectation(
  by: Person = admin,
  teamKey: Fingerprint = log.currentTeamKey.ref.fingerprint,
  readers: Fingerprint[] = [],
): RecordExpectation {
  return {
    recordId,
    version: 2,
    ownerId: patient.id,
    authorId: patient.id,
    authorPublicKey: patient.key.publicKey,
    ownerFingerprint: patient.key.fingerprint,
    recipients: [patient.key.fingerprint, teamKey, ...readers],
    teamGrants,
    teams: [log.state],
    rekeyedBy: { userId: by.id, publicKey: by.key.publicKey, check: 'current-admin' },
  };
}

/** The base, as a reader opens it with the session key the re-key handed over. */
function baseExpectation(sha: string): RecordExpectation {
  return {
    ...rekeyExpectation(),
    version: 1,
    recipients: [patient.key.fingerprint, retired.ref.fingerprint],
    dataSha256: sha,
    rekeyedBy: undefined,
  } as RecordExpectation;
}

async function rekey(opts: { by?: Person; version?: number; keys?: string[]; base?: string } = {}) {
  return sealRekey({
    rekey: {
      recordId,
      version: opts.version ?? 2,
      ownerId: patient.id,
      teamId: log.state.teamId,
      genesis: log.state.genesis,
    },
    base: { message: opts.base ?? base, myKey: retired.privateKey },
    signerKey: (opts.by ?? admin).key.privateKey,
    recipientKeys: opts.keys ?? [patient.key.publicKey, log.currentTeamKey.publicKey],
  });
}

describe('a re-key after a leave', () => {
  it('when a remaining member opens the re-key, then it verifies as a statement by a current admin and the base opens with its session key, with the patient’s own signed content', async () => {
    const { message } = await rekey();
    const opened = await openRecord({
      message,
      myKey: log.currentTeamKey.privateKey,
      expect: {
        ...rekeyExpectation(),
        readerKeys: [patient.key.publicKey, log.currentTeamKey.publicKey],
      },
    });
    if (opened.status !== 'rekeyed')
      throw new Error(`expected rekeyed, got ${JSON.stringify(opened)}`);
    expect(opened.rekey).toMatchObject({
      teamId: log.state.teamId,
      by: admin.id,
      baseVersion: 1,
      baseDataSha256: await dataSha256(base),
    });
    const content = await openRecord({
      message: base,
      sessionKey: opened.baseSessionKey,
      expect: baseExpectation(opened.rekey.baseDataSha256),
    });
    expect(content).toMatchObject({
      status: 'verified',
      envelope: {
        version: 1,
        authorId: patient.id,
        content: { title: 'Allergy', body: 'Penicillin' },
      },
    });
  });

  it('when the leaver tries the retired key she kept, then the re-key is not for her', async () => {
    const { message } = await rekey();
    expect(
      (await openRecord({ message, myKey: retired.privateKey, expect: rekeyExpectation() })).status,
    ).toBe('not-for-me');
  });

  it('when the server serves another message as the base (another version, or one sealed anew under the same session key), then it is refused', async () => {
    const { message } = await rekey();
    const opened = await openRecord({
      message,
      myKey: log.currentTeamKey.privateKey,
      expect: rekeyExpectation(),
    });
    if (opened.status !== 'rekeyed') throw new Error('expected rekeyed');
    const other = await sealRecord({
      envelope: {
        recordId,
        version: 1,
        ownerId: patient.id,
        authorId: patient.id,
        createdAt: new Date().toISOString(),
        content: { title: 'Allergy', body: 'None' },
      },
      authorKey: patient.key.privateKey,
      recipientKeys: [patient.key.publicKey],
    });
    const swapped = await openRecord({
      message: other.message,
      myKey: patient.key.privateKey,
      expect: baseExpectation(opened.rekey.baseDataSha256),
    });
    expect(swapped).toEqual({ status: 'context-mismatch', mismatches: ['rekey-base'] });
  });
});

describe('a re-key that is not one (security)', () => {
  it('when an admin writes new content and the server calls it a re-key, then readers refuse it: the plaintext is no re-key statement', async () => {
    const { message } = await sealRecord({
      envelope: {
        recordId,
        version: 2,
        ownerId: patient.id,
        authorId: patient.id,
        createdAt: new Date().toISOString(),
        content: { title: 'Allergy', body: 'None' },
      },
      authorKey: admin.key.privateKey,
      recipientKeys: [patient.key.publicKey, log.currentTeamKey.publicKey],
    });
    expect(
      await openRecord({
        message,
        myKey: log.currentTeamKey.privateKey,
        expect: rekeyExpectation(),
      }),
    ).toEqual({ status: 'context-mismatch', mismatches: ['envelope'] });
    // Nor does it pass as the patient's own version: it is not her signature.
    const asHers = { ...rekeyExpectation(), rekeyedBy: undefined } as RecordExpectation;
    expect(
      (await openRecord({ message, myKey: log.currentTeamKey.privateKey, expect: asHers })).status,
    ).toBe('unknown-author-key');
  });

  it('when a re-key statement is served as the author’s own version (the server hides that it is a re-key), then it does not verify', async () => {
    const { message } = await rekey();
    const hidden = { ...rekeyExpectation(), rekeyedBy: undefined } as RecordExpectation;
    expect(
      (await openRecord({ message, myKey: log.currentTeamKey.privateKey, expect: hidden })).status,
    ).toBe('unknown-author-key');
    // Even claimed by the signer as author: a statement is no envelope.
    const claimed = { ...hidden, authorId: admin.id, authorPublicKey: admin.key.publicKey };
    expect(
      await openRecord({ message, myKey: log.currentTeamKey.privateKey, expect: claimed }),
    ).toEqual({ status: 'context-mismatch', mismatches: ['envelope'] });
  });

  it('when a member who is no admin, or the leaver, signs a re-key, then it is refused', async () => {
    for (const signer of [stayer, leaver]) {
      const { message } = await rekey({ by: signer });
      const opened = await openRecord({
        message,
        myKey: log.currentTeamKey.privateKey,
        expect: rekeyExpectation(signer),
      });
      expect([signer.id, opened]).toEqual([
        signer.id,
        { status: 'context-mismatch', mismatches: ['rekey'] },
      ]);
    }
  });

  it('when a re-key names a base other than the version before it, or an older version is served as its base, then it is refused', async () => {
    const { message } = await rekey({ version: 3 });
    expect(
      await openRecord({
        message,
        myKey: log.currentTeamKey.privateKey,
        expect: rekeyExpectation(),
      }),
    ).toEqual({ status: 'context-mismatch', mismatches: ['version', 'rekey'] });
    // Served as version 3, it names version 2 as its base: version 1's message served as that fails.
    const asThree = await openRecord({
      message,
      myKey: log.currentTeamKey.privateKey,
      expect: { ...rekeyExpectation(), version: 3 },
    });
    if (asThree.status !== 'rekeyed') throw new Error('expected rekeyed');
    expect(asThree.rekey.baseVersion).toBe(2);
    const older = await openRecord({
      message: base,
      sessionKey: asThree.baseSessionKey,
      expect: { ...baseExpectation(asThree.rekey.baseDataSha256), version: 2 },
    });
    expect(older).toEqual({ status: 'context-mismatch', mismatches: ['version'] });
  });

  it('when a re-key adds a reader, or keeps the retired team key, then the readers do not verify', async () => {
    const mallory = await person('Mallory');
    const added = await rekey({
      keys: [patient.key.publicKey, log.currentTeamKey.publicKey, mallory.key.publicKey],
    });
    // The statement names her, so the re-key alone verifies; she is then a reader the base did
    // not have, which no grant explains (the team's new key is explained by the patient's grant).
    const opened = await openRecord({
      message: added.message,
      myKey: log.currentTeamKey.privateKey,
      expect: rekeyExpectation(admin, log.currentTeamKey.ref.fingerprint, [
        mallory.key.fingerprint,
      ]),
    });
    if (opened.status !== 'rekeyed') throw new Error('expected rekeyed');
    expect(opened.rekey.sealedBeyondGrants.sort()).toEqual(
      [patient.key.fingerprint, mallory.key.fingerprint].sort(),
    );
    const baseSealedTo = [patient.key.fingerprint];
    expect(
      rekeyAddsNoReader({
        base: baseSealedTo,
        sealedBeyondGrants: opened.rekey.sealedBeyondGrants,
        teams: [log.state],
      }),
    ).toBe(false);
    const honest = await openRecord({
      message: (await rekey()).message,
      myKey: log.currentTeamKey.privateKey,
      expect: rekeyExpectation(),
    });
    if (honest.status !== 'rekeyed') throw new Error('expected rekeyed');
    expect(
      rekeyAddsNoReader({
        base: baseSealedTo,
        sealedBeyondGrants: honest.rekey.sealedBeyondGrants,
        teams: [log.state],
      }),
    ).toBe(true);
    // A team counts by any of its keys: a base sealed to its retired key, a re-key to its new one.
    expect(
      rekeyAddsNoReader({
        base: [retired.ref.fingerprint],
        sealedBeyondGrants: [log.currentTeamKey.ref.fingerprint],
        teams: [log.state],
      }),
    ).toBe(true);
    const kept = await rekey({
      keys: [patient.key.publicKey, log.currentTeamKey.publicKey, retired.publicKey],
    });
    const withRetired = await openRecord({
      message: kept.message,
      myKey: log.currentTeamKey.privateKey,
      expect: rekeyExpectation(admin, log.currentTeamKey.ref.fingerprint, [
        retired.ref.fingerprint,
      ]),
    });
    expect(withRetired).toMatchObject({ status: 'context-mismatch', mismatches: ['recipients'] });
  });

  it('when a statement has an unknown field or a short session key, then it is not a statement', () => {
    const good = {
      v: 1,
      purpose: 'medseal/record-rekey',
      recordId,
      version: 2,
      ownerId: patient.id,
      teamId: 't',
      genesis: 'g',
      recipients: [],
      base: { version: 1, dataSha256: 'x', sessionKey: 'y' },
      createdAt: new Date().toISOString(),
    };
    expect(parseRekeyStatement(good)).not.toBeNull();
    expect(parseRekeyStatement({ ...good, content: { body: 'None' } })).toBeNull();
    expect(parseRekeyStatement({ ...good, base: { ...good.base, content: 'x' } })).toBeNull();
    expect(parseRekeyStatement({ ...good, purpose: 'medseal/team-grant' })).toBeNull();
  });
});
