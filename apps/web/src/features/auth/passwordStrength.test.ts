import { MIN_ACCEPTED_SCORE } from './strength';
import { estimateStrength } from './zxcvbn';

describe('password strength (zxcvbn-ts)', () => {
  it('when the password is a dictionary word and a year, then it is not strong ("Sunflower1985")', () => {
    const s = estimateStrength('Sunflower1985');
    expect(s.score).toBeLessThan(MIN_ACCEPTED_SCORE);
    expect(s.label).not.toMatch(/Strong/);
  });

  it('when the password is short or a common word, then it is rated below the accepted score', () => {
    for (const weak of ['', 'abc', 'password123!', 'Qwerty123456', 'aaaaaaaaaaaaaaa']) {
      expect(estimateStrength(weak).score).toBeLessThan(MIN_ACCEPTED_SCORE);
    }
  });

  it('when the password is several unrelated words, then it is accepted', () => {
    expect(estimateStrength('Tulip-Granite-Otter-41').score).toBeGreaterThanOrEqual(
      MIN_ACCEPTED_SCORE,
    );
    expect(estimateStrength('Juniper-Falcon-Harbor-47').score).toBeGreaterThanOrEqual(
      MIN_ACCEPTED_SCORE,
    );
  });

  it('when the password contains the email name, then it loses strength', () => {
    const plain = estimateStrength('annabellesmith-2024x');
    const personal = estimateStrength('annabellesmith-2024x', {
      email: 'annabellesmith@example.org',
    });
    expect(personal.bits).toBeLessThan(plain.bits);
  });
});
