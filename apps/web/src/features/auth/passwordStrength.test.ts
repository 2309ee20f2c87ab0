import { estimateStrength, MIN_ACCEPTED_SCORE } from './passwordStrength';

describe('estimateStrength', () => {
  it('when the password is short or a common word, then it is rated below the accepted score', () => {
    for (const weak of ['', 'abc', 'password123!', 'Qwerty123456', 'aaaaaaaaaaaaaaa']) {
      expect(estimateStrength(weak).score).toBeLessThan(MIN_ACCEPTED_SCORE);
    }
  });

  it('when the password is several unrelated words, then it is accepted', () => {
    expect(estimateStrength('correct horse battery staple').score).toBeGreaterThanOrEqual(MIN_ACCEPTED_SCORE);
    expect(estimateStrength('Tulip-Granite-Otter-41').score).toBeGreaterThanOrEqual(MIN_ACCEPTED_SCORE);
  });

  it('when the password contains the email name, then it loses strength and says why', () => {
    const plain = estimateStrength('annabellesmith-2024x');
    const personal = estimateStrength('annabellesmith-2024x', { email: 'annabellesmith@example.org' });
    expect(personal.bits).toBeLessThan(plain.bits);
    expect(personal.hints.join(' ')).toMatch(/name or email/);
  });
});
