// Gossip (issue 12, DESIGN §14): records and grants carry the author's latest tree head, a reader
// gets it back only from verified data, older records without it stay readable, the account
// state keeps a head, and the worker checks heads against the log key it was built with only.
import {
  MAX_ACKNOWLEDGED_ALERTS,
  bindingLeafHash,
  createGrant,
  generateLogKey,
  openAccountState,
  openRecord,
  sealAccountState,
  sealRecord,
  signTreeHead,
  type Fingerprint,
  type RecordExpectation,
  type RecordId,
  type SignedTreeHead,
  type UserId,
} from '../src';
import { createCryptoWorkerApi } from '../src/worker';
import { stateOf } from './account-state-helpers';
import { codeOf, makeUser } from './helpers';
import { memoryLog, type MemoryLog } from './transparency-helpers';

type User = Awaited<ReturnType<typeof makeUser>>;
let patient: User;
let doctor: User;
let nurse: User;
const logKey = generateLogKey();
const hex = (b: Uint8Array) => Buffer.from(b).toString('hex');
const leaves = (prefix: string, n: number) =>
  Array.from({ length: n }, (_, i) => bindingLeafHash(`${prefix}-${i}`));
const headOf = (log: MemoryLog, size = log.size): SignedTreeHead =>
  signTreeHead(
    { v: 1, size, root: hex(log.root(size)), timestamp: 1_700_000_000_000 + size },
    logKey.secretKey,
  );

const real = memoryLog(leaves('leaf', 6));
// The fork agrees on the first 4 leaves, then differs.
const fork = memoryLog([...leaves('leaf', 4), ...leaves('forged', 2)]);

beforeAll(async () => {
  [patient, doctor, nurse] = await Promise.all([
    makeUser('Patient'),
    makeUser('Doctor'),
    makeUser('Nurse'),
  ]);
});

const envelope = (ktHead?: SignedTreeHead) => ({
  recordId: 'rec-gossip' as RecordId,
  version: 1,
  ownerId: 'u-patient' as UserId,
  authorId: 'u-doctor' as UserId,
  createdAt: '2026-12-03T10:00:00.000Z',
  content: { kind: 'note', title: 'Follow-up' },
  ...(ktHead ? { ktHead } : {}),
});

const expectation = (
  recipients: Fingerprint[],
  extra: Partial<RecordExpectation> = {},
): RecordExpectation => ({
  recordId: 'rec-gossip' as RecordId,
  version: 1,
  ownerId: 'u-patient' as UserId,
  authorId: 'u-doctor' as UserId,
  authorPublicKey: doctor.publicKey,
  authorFingerprint: doctor.fingerprint,
  recipients,
  ...extra,
});

describe('tree heads in records and grants', () => {
  it('when the author signs a head into the record and a grant, then the reader gets both back as gossip', async () => {
    const head = headOf(real, 5);
    const { message, envelope: sealed } = await sealRecord({
      envelope: envelope(head),
      authorKey: doctor.privateKey,
      recipientKeys: [patient.publicKey, doctor.publicKey],
    });
    const own = await openRecord({
      message,
      myKey: patient.privateKey,
      expect: expectation(sealed.recipients),
    });
    expect(own).toMatchObject({ status: 'verified', gossip: [head] });

    const grantHead = headOf(real, 6);
    const { signedGrant } = await createGrant({
      grant: {
        recordId: 'rec-gossip' as RecordId,
        granteeUserId: 'u-nurse' as UserId,
        granteeFingerprint: nurse.fingerprint,
        grantedBy: 'u-doctor' as UserId,
        ktHead: grantHead,
      },
      signerKey: doctor.privateKey,
    });
    // The nurse reads through the grant: it is accepted, so its head is gossip too (the message
    // itself is not re-encrypted here; the recipient list check is what accepts the grant).
    const viaGrant = await openRecord({
      message,
      myKey: patient.privateKey,
      expect: expectation([...sealed.recipients, nurse.fingerprint], {
        grants: [{ signedGrant, signerPublicKey: doctor.publicKey }],
      }),
    });
    expect(viaGrant).toMatchObject({ status: 'verified', gossip: [head, grantHead] });
  });

  it('when a record or grant was made before gossip, then it still opens, with no head', async () => {
    const { message, envelope: sealed } = await sealRecord({
      envelope: envelope(),
      authorKey: doctor.privateKey,
      recipientKeys: [patient.publicKey],
    });
    expect(
      await openRecord({
        message,
        myKey: patient.privateKey,
        expect: expectation(sealed.recipients),
      }),
    ).toMatchObject({ status: 'verified', gossip: [] });
  });

  it('when a head is not a signed tree head, then sealing and granting refuse it', async () => {
    const bad = { ...headOf(real, 3), extra: 1 } as unknown as SignedTreeHead;
    await expect(
      sealRecord({
        envelope: envelope(bad),
        authorKey: doctor.privateKey,
        recipientKeys: [patient.publicKey],
      }),
    ).rejects.toMatchObject({ code: 'invalid-argument' });
    const short = { ...headOf(real, 3), root: 'ab' };
    await expect(
      createGrant({
        grant: {
          recordId: 'r' as RecordId,
          granteeUserId: 'u' as UserId,
          granteeFingerprint: nurse.fingerprint,
          grantedBy: 'u-doctor' as UserId,
          ktHead: short,
        },
        signerKey: doctor.privateKey,
      }),
    ).rejects.toMatchObject({ code: 'invalid-argument' });
  });

  it('when the account state holds a head, then it comes back exactly; a state with a broken head is refused', async () => {
    const head = headOf(real, 4);
    const state = { ...(await stateOf(patient)), transparencyHead: head };
    const { message } = await sealAccountState({ state, key: patient.privateKey });
    const opened = await openAccountState({ message, userId: 'u-me', key: patient.privateKey });
    expect(opened).toMatchObject({ status: 'verified', state: { transparencyHead: head } });
    const broken = { ...state, transparencyHead: { ...head, size: -1 } };
    await expect(
      sealAccountState({ state: broken, key: patient.privateKey }),
    ).rejects.toMatchObject({ code: 'invalid-argument' });
  });

  it('when alerts were acknowledged, then they come back in order; a state without them opens with none; duplicates are refused, and beyond the limit the oldest are dropped', async () => {
    const acknowledged = [
      { id: 'split-view:6:ab', at: '2026-12-01T10:00:00.000Z' },
      { id: 'foreign-key:FP@1', at: '2026-12-02T10:00:00.000Z' },
    ];
    const state = { ...(await stateOf(patient)), ktAcknowledged: acknowledged };
    const { message } = await sealAccountState({ state, key: patient.privateKey });
    const opened = await openAccountState({ message, userId: 'u-me', key: patient.privateKey });
    expect(opened).toMatchObject({ status: 'verified', state: { ktAcknowledged: acknowledged } });
    const { ktAcknowledged: _, ...without } = state;
    const plain = await openAccountState({
      message: (await sealAccountState({ state: without, key: patient.privateKey })).message,
      userId: 'u-me',
      key: patient.privateKey,
    });
    expect(plain).toMatchObject({ status: 'verified', state: { ktAcknowledged: [] } });
    const twice = {
      ...state,
      ktAcknowledged: [acknowledged[0], acknowledged[0]] as typeof acknowledged,
    };
    await expect(sealAccountState({ state: twice, key: patient.privateKey })).rejects.toMatchObject(
      { code: 'invalid-argument' },
    );
    const many = Array.from({ length: MAX_ACKNOWLEDGED_ALERTS + 1 }, (_, i) => ({
      id: `a${i}`,
      at: '2026-12-01T10:00:00.000Z',
    }));
    const sealed = await sealAccountState({
      state: { ...state, ktAcknowledged: many },
      key: patient.privateKey,
    });
    const reopened = await openAccountState({
      message: sealed.message,
      userId: 'u-me',
      key: patient.privateKey,
    });
    expect(reopened).toMatchObject({
      status: 'verified',
      state: { ktAcknowledged: many.slice(1) },
    });
  });
});

describe('the worker checks heads against its own log key', () => {
  const api = createCryptoWorkerApi({ ktLogPublicKey: logKey.publicKey });

  it('when two people saw consistent heads, then consistent; when one saw a fork, then split-view', async () => {
    const own = headOf(real, 4);
    await expect(
      api.ktCheckGossip({ own, theirs: headOf(real, 6), proof: real.consistency(4, 6).map(hex) }),
    ).resolves.toEqual({ status: 'consistent' });
    await expect(
      api.ktCheckGossip({ own: headOf(real, 6), theirs: headOf(fork, 6), proof: [] }),
    ).resolves.toMatchObject({ status: 'split-view' });
    await expect(
      api.ktCheckGossip({ own, theirs: headOf(fork, 6), proof: real.consistency(4, 6).map(hex) }),
    ).resolves.toMatchObject({ status: 'split-view' });
  });

  it('when a head is signed by another log key, or the worker has no log key, then it refuses', async () => {
    const other = generateLogKey();
    const foreign = signTreeHead(
      { v: 1, size: 4, root: hex(real.root(4)), timestamp: 1 },
      other.secretKey,
    );
    expect(await codeOf(api.ktCheckHead({ stored: null, next: foreign, consistency: [] }))).toBe(
      'kt-bad-head-signature',
    );
    await expect(
      api.ktCheckHead({ stored: null, next: headOf(real, 4), consistency: [] }),
    ).resolves.toEqual(headOf(real, 4));
    const bare = createCryptoWorkerApi();
    expect(
      await codeOf(bare.ktCheckHead({ stored: null, next: headOf(real, 4), consistency: [] })),
    ).toBe('invalid-argument');
  });
});
