// Issue 10 class 10, the part the first fix left open: the server withholds the checkpoint the
// owner signed, or serves an older one, and then shortens or rewrites the trail; against no
// checkpoint (or the older one) the tampered trail passed. The owner's account state now keeps
// the last checkpoint she signed or accepted (length + head), and the trail must extend it
// whatever the server stores.
import {
  auditEventHash,
  auditMarkOf,
  AUDIT_GENESIS_HASH,
  checkAuditTrail,
  signAuditCheckpoint,
  type AuditLink,
} from '../../src';
import { makeUser } from '../helpers';

const recordId = 'rec-withheld';

function chain(steps: [string, string][]): AuditLink[] {
  const events: AuditLink[] = [];
  let prevHash = AUDIT_GENESIS_HASH;
  for (const [i, [actorId, action]] of steps.entries()) {
    const e = {
      recordId,
      seq: i + 1,
      actorId,
      action,
      at: new Date(Date.UTC(2026, 11, 3, 11, i)).toISOString(),
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
  ['u-owner', 'share'],
  ['u-dana', 'read'],
  ['u-dana', 'read'],
];

describe('security: a withheld or rolled-back audit checkpoint', () => {
  let owner: Awaited<ReturnType<typeof makeUser>>;
  let events: AuditLink[];
  let seen: ReturnType<typeof auditMarkOf>;
  let older: string;
  beforeAll(async () => {
    owner = await makeUser('Owner');
    events = chain(steps);
    const intact = await checkAuditTrail({
      recordId,
      events,
      signedCheckpoint: null,
      ownerKey: owner.privateKey,
    });
    if (intact.status !== 'intact') throw new Error('the trail should pass');
    // What her account state keeps after this visit: length 4 and the head's first 128 bits.
    seen = intact.mark;
    const second = events[1];
    if (!second) throw new Error('no events');
    older = await signAuditCheckpoint({
      checkpoint: { recordId, length: 2, head: second.hash },
      key: owner.privateKey,
    });
  });

  it('when the trail passes, then the mark to keep is its length and the first 128 bits of its head', () => {
    expect(seen).toEqual({ length: 4, head: events[3]?.hash.slice(0, 32) });
  });

  it('when the server withholds the checkpoint and drops the last reads, then shortened against her state', async () => {
    const result = await checkAuditTrail({
      recordId,
      events: events.slice(0, 2),
      signedCheckpoint: null,
      ownerKey: owner.privateKey,
      seen,
    });
    expect(result).toEqual({ status: 'shortened', length: 2, checkpointLength: 4 });
    // Without her state the same answer passed: the hole this closes.
    expect(
      (
        await checkAuditTrail({
          recordId,
          events: events.slice(0, 2),
          signedCheckpoint: null,
          ownerKey: owner.privateKey,
        })
      ).status,
    ).toBe('intact');
  });

  it('when the server rolls the checkpoint back to an older one she signed and drops the reads after it, then shortened', async () => {
    const result = await checkAuditTrail({
      recordId,
      events: events.slice(0, 2),
      signedCheckpoint: older,
      ownerKey: owner.privateKey,
      seen,
    });
    expect(result).toEqual({ status: 'shortened', length: 2, checkpointLength: 4 });
  });

  it('when the server rewrites who read (re-hashed, as long as before) under an older or no checkpoint, then diverged', async () => {
    const rewritten = chain(
      steps.map(([actor, action], i) => [i >= 2 && actor === 'u-dana' ? 'u-cara' : actor, action]),
    );
    for (const signedCheckpoint of [null, older]) {
      expect(
        await checkAuditTrail({
          recordId,
          events: rewritten,
          signedCheckpoint,
          ownerKey: owner.privateKey,
          seen,
        }),
      ).toEqual({ status: 'diverged', seq: 4 });
    }
  });

  it('when the trail grew past her mark, under an older or no stored checkpoint, then intact with the new mark to keep', async () => {
    const longer = chain([...steps, ['u-dana', 'list']]);
    for (const signedCheckpoint of [null, older]) {
      const result = await checkAuditTrail({
        recordId,
        events: longer,
        signedCheckpoint,
        ownerKey: owner.privateKey,
        seen,
      });
      expect(result).toMatchObject({
        status: 'intact',
        length: 5,
        mark: { length: 5, head: longer[4]?.hash.slice(0, 32) },
      });
    }
  });
});
