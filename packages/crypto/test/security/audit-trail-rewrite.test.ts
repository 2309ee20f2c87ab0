// Issue 10 class 10: the access trail's "hash chain intact" was the server's own verdict. A
// malicious operator rewrites an event (and every later hash), or drops the latest events of a
// trail the owner has already seen; the owner's client must find both without the server's help.
import {
  auditEventHash,
  AUDIT_GENESIS_HASH,
  checkAuditTrail,
  signAuditCheckpoint,
  type AuditLink,
} from '../../src';
import { makeUser } from '../helpers';

const recordId = 'rec-audit';

/** A chain linked as the server links it, from `(actorId, action)` pairs. */
function chain(steps: [string, string][]): AuditLink[] {
  const events: AuditLink[] = [];
  let prevHash = AUDIT_GENESIS_HASH;
  for (const [i, [actorId, action]] of steps.entries()) {
    const e = {
      recordId,
      seq: i + 1,
      actorId,
      action,
      at: new Date(Date.UTC(2026, 11, 3, 10, i)).toISOString(),
      prevHash,
    };
    const hash = auditEventHash(e);
    events.push({ ...e, hash });
    prevHash = hash;
  }
  return events;
}

const steps: [string, string][] = [
  ['u-owner', 'create'],
  ['u-dana', 'read'],
  ['u-owner', 'share'],
  ['u-dana', 'read'],
];

describe('security: a rewritten access trail', () => {
  it('when the server changes who opened a record and re-hashes the chain from there, then the trail does not extend the owner’s checkpoint', async () => {
    const owner = await makeUser('Owner');
    const events = chain(steps);
    const last = events[events.length - 1];
    if (!last) throw new Error('no events');
    const signedCheckpoint = await signAuditCheckpoint({
      checkpoint: { recordId, length: events.length, head: last.hash },
      key: owner.privateKey,
    });
    // A consistent chain, with Cara in Dana's place: every link recomputes.
    const rewritten = chain(
      steps.map(([actor, action]) => [actor === 'u-dana' ? 'u-cara' : actor, action]),
    );
    expect(
      await checkAuditTrail({
        recordId,
        events: rewritten,
        signedCheckpoint,
        ownerKey: owner.privateKey,
      }),
    ).toEqual({ status: 'diverged', seq: 4 });
    // The same rewrite without re-hashing breaks the chain at the first changed event.
    const edited = events.map((e) => (e.actorId === 'u-dana' ? { ...e, actorId: 'u-cara' } : e));
    expect(
      await checkAuditTrail({
        recordId,
        events: edited,
        signedCheckpoint,
        ownerKey: owner.privateKey,
      }),
    ).toEqual({ status: 'broken', seq: 2 });
  });

  it('when the server drops the latest events of a trail the owner signed, then it is shortened; the full trail, and a longer one, are intact', async () => {
    const owner = await makeUser('Owner');
    const events = chain(steps);
    const last = events[events.length - 1];
    if (!last) throw new Error('no events');
    const checkpoint = { recordId, length: events.length, head: last.hash };
    const signedCheckpoint = await signAuditCheckpoint({ checkpoint, key: owner.privateKey });
    expect(
      await checkAuditTrail({
        recordId,
        events: events.slice(0, 3),
        signedCheckpoint,
        ownerKey: owner.privateKey,
      }),
    ).toEqual({
      status: 'shortened',
      length: 3,
      checkpointLength: 4,
    });
    expect(
      await checkAuditTrail({ recordId, events, signedCheckpoint, ownerKey: owner.privateKey }),
    ).toMatchObject({ status: 'intact', length: 4, checkpoint });
    const longer = chain([...steps, ['u-dana', 'list']]);
    expect(
      await checkAuditTrail({
        recordId,
        events: longer,
        signedCheckpoint,
        ownerKey: owner.privateKey,
      }),
    ).toMatchObject({ status: 'intact', length: 5, checkpoint });
  });

  it('when the stored checkpoint is signed by another key or names another record, then it is a bad checkpoint', async () => {
    const [owner, mallory] = await Promise.all([makeUser('Owner'), makeUser('Mallory')]);
    const events = chain(steps.slice(0, 2));
    const head = events[1]?.hash ?? '';
    const byMallory = await signAuditCheckpoint({
      checkpoint: { recordId, length: 1, head },
      key: mallory.privateKey,
    });
    expect(
      await checkAuditTrail({
        recordId,
        events,
        signedCheckpoint: byMallory,
        ownerKey: owner.privateKey,
      }),
    ).toEqual({ status: 'bad-checkpoint' });
    const otherRecord = await signAuditCheckpoint({
      checkpoint: { recordId: 'rec-other', length: 2, head },
      key: owner.privateKey,
    });
    expect(
      await checkAuditTrail({
        recordId,
        events,
        signedCheckpoint: otherRecord,
        ownerKey: owner.privateKey,
      }),
    ).toEqual({ status: 'bad-checkpoint' });
  });

  it('when an event of another record is spliced into the trail, then the chain is broken there', async () => {
    const owner = await makeUser('Owner');
    const events = chain(steps);
    const spliced = events.map((e, i) => (i === 2 ? { ...e, recordId: 'rec-other' } : e));
    expect(
      await checkAuditTrail({
        recordId,
        events: spliced,
        signedCheckpoint: null,
        ownerKey: owner.privateKey,
      }),
    ).toEqual({ status: 'broken', seq: 3 });
  });
});
