import type { ConsentGiven, Fingerprint, TeamState, UserId } from '@medseal/crypto';
import { consentForRecord, consentsNow, teamSubject } from './consents';

const fp = (c: string) => c.repeat(40) as Fingerprint;
const doc = { id: 'doc', fingerprint: fp('a') };
const given: ConsentGiven = {
  kind: 'person',
  subjectId: 'doc',
  fingerprint: fp('a'),
  since: '2026-12-01T10:00:00.000Z',
  seq: 1,
};
const withdrawn: ConsentGiven = { ...given, seq: 2, withdrawnAt: '2026-12-02T10:00:00.000Z' };

/** A verified team state with `doc` (key a) as a current member, founded by key f. */
const team = {
  v: 1,
  teamId: 'team-1',
  practiceId: 'p',
  practiceName: 'St Mary’s',
  name: 'Cardiology',
  genesis: 'genesis-1',
  root: { userId: 'admin' as UserId, fingerprint: fp('f') },
  seq: 1,
  head: 'h',
  at: '2026-12-01T09:00:00.000Z',
  members: [
    {
      userId: 'doc' as UserId,
      fingerprint: fp('a'),
      role: 'doctor',
      admin: false,
      since: '2026-12-01T09:00:00.000Z',
      signedBy: 'admin' as UserId,
      seq: 1,
    },
  ],
  keys: [],
} satisfies TeamState;
const toTeam: ConsentGiven = {
  kind: 'team',
  subjectId: 'team-1',
  fingerprint: fp('f'),
  genesis: 'genesis-1',
  since: '2026-12-01T10:00:00.000Z',
  seq: 1,
};

const consented = { status: 'consented' };
const none = { status: 'none' };

describe('consent to write, as the patient’s signed state says', () => {
  it('when the patient consented to this doctor with this key, then he writes for her now and his records count as consented', () => {
    expect(consentsNow([given], { kind: 'person', ...doc })).toBe(true);
    expect(consentForRecord([given], doc, new Date('2026-12-03T00:00:00Z'))).toEqual(consented);
  });

  it('when the record is signed by another key, by someone she never consented to, or after she withdrew, then it was written without her consent', () => {
    expect(consentForRecord([given], { ...doc, fingerprint: fp('b') }, new Date())).toEqual(none);
    expect(consentForRecord([given], { ...doc, id: 'intruder' }, new Date())).toEqual(none);
    expect(consentForRecord([withdrawn], doc, new Date('2026-12-02T11:00:00Z'))).toEqual(none);
    expect(consentsNow([withdrawn], { kind: 'person', ...doc })).toBe(false);
  });

  it('when she withdrew and the record says it was signed before, then it is not called consented: the date is the author’s own', () => {
    // Signed "before" the withdrawal by the author's clock, or backdated: the app cannot tell.
    expect(consentForRecord([withdrawn], doc, new Date('2026-12-01T12:00:00Z'))).toEqual({
      status: 'withdrawn',
      withdrawnAt: withdrawn.withdrawnAt,
    });
    expect(consentForRecord([withdrawn], doc, new Date('2020-01-01T00:00:00Z'))).toEqual({
      status: 'withdrawn',
      withdrawnAt: withdrawn.withdrawnAt,
    });
  });
});

describe('consent to a care team, checked against the team’s verified membership', () => {
  it('when she consented to the team and the author is a current member with this key, then consented', () => {
    expect(consentsNow([toTeam], teamSubject(team))).toBe(true);
    expect(consentForRecord([toTeam], doc, new Date(), [team])).toEqual(consented);
  });

  it('when the author is not a member (or with another key), the record does not go to that team, or the consent names a look-alike team, then not consented', () => {
    expect(consentForRecord([toTeam], { ...doc, id: 'intruder' }, new Date(), [team])).toEqual(
      none,
    );
    expect(
      consentForRecord([toTeam], { ...doc, fingerprint: fp('b') }, new Date(), [team]),
    ).toEqual(none);
    expect(consentForRecord([toTeam], doc, new Date(), [])).toEqual(none);
    const lookAlike = { ...team, genesis: 'genesis-2' };
    expect(consentForRecord([toTeam], doc, new Date(), [lookAlike])).toEqual(none);
    expect(consentsNow([toTeam], teamSubject(lookAlike))).toBe(false);
  });

  it('when she withdrew the team’s consent, then after it by the author’s date is none, before it is withdrawn (unknown)', () => {
    const gone = { ...toTeam, seq: 2, withdrawnAt: '2026-12-02T10:00:00.000Z' };
    expect(consentForRecord([gone], doc, new Date('2026-12-02T11:00:00Z'), [team])).toEqual(none);
    expect(consentForRecord([gone], doc, new Date('2026-12-01T11:00:00Z'), [team])).toEqual({
      status: 'withdrawn',
      withdrawnAt: gone.withdrawnAt,
    });
  });
});
