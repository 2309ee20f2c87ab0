import type { ConsentGiven, Fingerprint } from '@medseal/crypto';
import { authorFlagsOf, NO_FLAGS } from './authorFlags';
import type { VerifiedSummary } from './summaryLoader';

const fp = (c: string) => c.repeat(40) as Fingerprint;
const me = { id: 'me' };
const doctor = { id: 'doc', fingerprint: fp('a') };
const consent: ConsentGiven = {
  kind: 'person',
  subjectId: 'doc',
  fingerprint: fp('a'),
  since: '2026-12-01T10:00:00.000Z',
  seq: 1,
};
const withdrawn: ConsentGiven = { ...consent, seq: 2, withdrawnAt: '2026-12-02T10:00:00.000Z' };

const signed = (
  author: { id: string; fingerprint: string },
  signedAt: string,
): VerifiedSummary => ({
  status: 'verified',
  summary: { title: 'Check-up', kind: 'note', date: '2026-12-01' },
  role: 'owner',
  author,
  signedAt: new Date(signedAt),
  teams: [],
});

const state = (consents: ConsentGiven[], verified = false) => ({
  isVerified: (id: string, f: string) => verified && id === doctor.id && f === doctor.fingerprint,
  consents,
});

describe('what a row of the records list says of its author', () => {
  it('when a doctor with no consent of hers signed her record, then it is flagged without consent; his key unverified too', () => {
    expect(authorFlagsOf(me, state([]), 'me', signed(doctor, '2026-12-03T00:00:00Z'))).toEqual({
      keyUnverified: true,
      withoutConsent: true,
    });
  });

  it('when she consented to that key, or withdrew only after his own signing date, then no consent flag; a verified key, no key flag', () => {
    const at = '2026-12-01T12:00:00Z';
    expect(authorFlagsOf(me, state([consent], true), 'me', signed(doctor, at))).toEqual(NO_FLAGS);
    expect(authorFlagsOf(me, state([withdrawn], true), 'me', signed(doctor, at))).toEqual(NO_FLAGS);
  });

  it('when the record is another patient’s, then no consent flag (hers is not asked); when I signed it, then no flag at all', () => {
    expect(
      authorFlagsOf(me, state([]), 'someone-else', signed(doctor, '2026-12-03T00:00:00Z')),
    ).toEqual({ keyUnverified: true, withoutConsent: false });
    expect(
      authorFlagsOf(me, state([]), 'me', signed({ id: 'me', fingerprint: fp('m') }, '2026-12-03')),
    ).toEqual(NO_FLAGS);
  });
});
