/** What a password's strength is and what the forms accept (./passwordStrength.ts estimates it). */
export type StrengthScore = 0 | 1 | 2 | 3 | 4;

export interface Strength {
  score: StrengthScore;
  label: 'Very weak' | 'Weak' | 'Fair' | 'Strong' | 'Very strong';
  /** Rough bits of guessing entropy (log2 of zxcvbn's guesses). */
  bits: number;
  hints: string[];
}

/** What makes a password personal (penalized when it contains them). */
export interface StrengthContext {
  email?: string;
  name?: string;
}

/** Registration, recovery and password change accept score ≥ this. */
export const MIN_ACCEPTED_SCORE: StrengthScore = 3;
export const MIN_PASSWORD_LENGTH = 12;
export const STRENGTH_LABELS: Strength['label'][] = [
  'Very weak',
  'Weak',
  'Fair',
  'Strong',
  'Very strong',
];
