import type { ConsentGiven, Fingerprint } from '@medseal/crypto';
import { consentsNow, writtenWithConsent } from './consents';

const fp = (c: string) => c.repeat(40) as Fingerprint;
const given: ConsentGiven = {
  kind: 'person',
  subjectId: 'doc',
  fingerprint: fp('a'),
  since: '2026-12-01T10:00:00.000Z',
  seq: 1,
};
const withdrawn: ConsentGiven = { ...given, seq: 2, withdrawnAt: '2026-12-02T10:00:00.000Z' };

describe('consent to write, as the patient’s signed state says', () => {
  it('when the patient consented to this doctor with this key, then he writes for her now and his records count as consented', () => {
    expect(consentsNow([given], 'doc', fp('a'))).toBe(true);
    expect(writtenWithConsent([given], 'doc', fp('a'), new Date('2026-12-03T00:00:00Z'))).toBe(
      true,
    );
  });

  it('when the record is signed by another key, by someone she never consented to, or after she withdrew, then it was written without her consent', () => {
    expect(writtenWithConsent([given], 'doc', fp('b'), new Date())).toBe(false);
    expect(writtenWithConsent([given], 'intruder', fp('a'), new Date())).toBe(false);
    expect(writtenWithConsent([withdrawn], 'doc', fp('a'), new Date('2026-12-02T11:00:00Z'))).toBe(
      false,
    );
    expect(consentsNow([withdrawn], 'doc', fp('a'))).toBe(false);
  });

  it('when she withdrew later, then what he wrote before stays consented', () => {
    expect(writtenWithConsent([withdrawn], 'doc', fp('a'), new Date('2026-12-01T12:00:00Z'))).toBe(
      true,
    );
  });
});
