// The reader rule for records shared with a care team (DESIGN §13, docs/care-teams.md): a team's
// key is among a record's readers only through a grant the owner or author signed for that team
// (id and genesis), and only the key the team's verified statements say was current when the
// grant was signed. A member opens the record with the team key.
import {
  createRecipientPacket,
  createTeamGrant,
  openRecord,
  sealRecord,
  type Fingerprint,
  type RecordExpectation,
  type RecordId,
  type UserId,
} from '../src';
import { addRecipientPacket } from '../src/inspect';
import { entry, person, TeamLog, type Person } from './team-helpers';

let patient: Person;
let admin: Person;
let drA: Person;
let log: TeamLog;
beforeAll(async () => {
  [patient, admin, drA] = await Promise.all([person('Pat'), person('Admin'), person('Alice')]);
  log = await TeamLog.create(admin);
  await log.add(entry(drA), admin);
});

const recordId = 'rec-team-1' as RecordId;

/** The patient's record, shared with the team as her browser shares it: one PKESK + a grant. */
async function sharedWithTeam(opts: { signer?: Person; genesis?: string } = {}) {
  const { message: sealed } = await sealRecord({
    envelope: {
      recordId,
      version: 1,
      ownerId: patient.id,
      authorId: patient.id,
      createdAt: new Date().toISOString(),
      content: { title: 'BP', body: '120/80' },
    },
    authorKey: patient.key.privateKey,
    recipientKeys: [patient.key.publicKey],
  });
  const pkesk = await createRecipientPacket({
    message: sealed,
    myKey: patient.key.privateKey,
    newRecipientKey: log.currentTeamKey.publicKey,
  });
  const message = await addRecipientPacket(sealed, pkesk);
  const signer = opts.signer ?? patient;
  const { signedGrant } = await createTeamGrant({
    grant: {
      recordId,
      teamId: log.state.teamId,
      genesis: opts.genesis ?? log.state.genesis,
      grantedBy: signer.id,
    },
    signerKey: signer.key.privateKey,
  });
  return { message, teamGrants: [{ signedGrant, signerPublicKey: signer.key.publicKey }] };
}

function expectation(
  teamGrants: RecordExpectation['teamGrants'],
  teamKey: Fingerprint = log.currentTeamKey.ref.fingerprint,
): RecordExpectation {
  return {
    recordId,
    version: 1,
    ownerId: patient.id,
    authorId: patient.id,
    authorPublicKey: patient.key.publicKey,
    ownerFingerprint: patient.key.fingerprint,
    recipients: [patient.key.fingerprint, teamKey],
    ...(teamGrants ? { teamGrants } : {}),
    teams: [log.state],
  };
}

describe('a record shared with a care team', () => {
  it('when a member opens it with the team key and the owner’s team grant, then it verifies', async () => {
    const { message, teamGrants } = await sharedWithTeam();
    const result = await openRecord({
      message,
      myKey: log.currentTeamKey.privateKey,
      expect: expectation(teamGrants),
    });
    expect(result.status).toBe('verified');
  });

  it('when the team key is listed without a grant, with a grant signed by someone else, or for a look-alike team, then it is a context mismatch', async () => {
    const { message } = await sharedWithTeam();
    const bare = await openRecord({
      message,
      myKey: patient.key.privateKey,
      expect: expectation(undefined),
    });
    expect(bare).toMatchObject({
      status: 'context-mismatch',
      unexpectedRecipients: [log.currentTeamKey.ref.fingerprint],
    });
    const byMember = await sharedWithTeam({ signer: drA });
    expect(
      (
        await openRecord({
          message,
          myKey: patient.key.privateKey,
          expect: expectation(byMember.teamGrants),
        })
      ).status,
    ).toBe('context-mismatch');
    const lookAlike = await sharedWithTeam({ genesis: 'A'.repeat(43) });
    expect(
      (
        await openRecord({
          message,
          myKey: patient.key.privateKey,
          expect: expectation(lookAlike.teamGrants),
        })
      ).status,
    ).toBe('context-mismatch');
  });

  it('when the server names a key other than the one the team had when the grant was signed, then it is a context mismatch', async () => {
    const { message, teamGrants } = await sharedWithTeam();
    const other = await person('Mallory');
    const result = await openRecord({
      message,
      myKey: patient.key.privateKey,
      expect: expectation(teamGrants, other.key.fingerprint),
    });
    expect(result).toMatchObject({
      status: 'context-mismatch',
      unexpectedRecipients: [other.key.fingerprint],
    });
  });

  it('when a member is removed and the key rotates, then the grant still accepts the key of its time, not the new one', async () => {
    const { message, teamGrants } = await sharedWithTeam();
    const oldKey = log.currentTeamKey;
    await log.remove(drA.id as UserId, admin);
    expect(
      (
        await openRecord({
          message,
          myKey: oldKey.privateKey,
          expect: expectation(teamGrants, oldKey.ref.fingerprint),
        })
      ).status,
    ).toBe('verified');
    expect(
      (
        await openRecord({
          message,
          myKey: patient.key.privateKey,
          expect: expectation(teamGrants, log.currentTeamKey.ref.fingerprint),
        })
      ).status,
    ).toBe('context-mismatch');

    // The admin re-keys: version 2 to the patient and the new key; the old grant still verifies beside it.
    const rekey = async (teamKey: typeof oldKey) =>
      (
        await sealRecord({
          envelope: {
            recordId,
            version: 2,
            ownerId: patient.id,
            authorId: admin.id,
            createdAt: new Date().toISOString(),
            content: { title: 'BP', body: '120/80' },
          },
          authorKey: admin.key.privateKey,
          recipientKeys: [patient.key.publicKey, teamKey.publicKey],
        })
      ).message;
    const v2 = (teamKey: typeof oldKey) => ({
      ...expectation(teamGrants, teamKey.ref.fingerprint),
      version: 2,
      authorId: admin.id,
      authorPublicKey: admin.key.publicKey,
    });
    expect(
      (
        await openRecord({
          message: await rekey(log.currentTeamKey),
          myKey: log.currentTeamKey.privateKey,
          expect: v2(log.currentTeamKey),
        })
      ).status,
    ).toBe('verified');
    // A version sealed to the retired key after its retirement (a stale writer): the leaver could read it.
    const stale = await openRecord({
      message: await rekey(oldKey),
      myKey: patient.key.privateKey,
      expect: v2(oldKey),
    });
    expect(stale).toMatchObject({ status: 'context-mismatch', mismatches: ['recipients'] });
  });
});
