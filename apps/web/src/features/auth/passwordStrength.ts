/**
 * A small, dependency-free password strength estimate for the register and change-password
 * forms. It is a guide, not a guarantee: it estimates guessing entropy from length and
 * character classes, then removes what common patterns give away (words from a short list of
 * the most used passwords, the user's own email or name, repeats and keyboard/alphabet runs).
 * zxcvbn would be better but costs ~400 KB, more than the whole first-page budget.
 */
export type StrengthScore = 0 | 1 | 2 | 3 | 4;

export interface Strength {
  score: StrengthScore;
  label: 'Very weak' | 'Weak' | 'Fair' | 'Strong' | 'Very strong';
  /** Rough bits of guessing entropy after penalties. */
  bits: number;
  hints: string[];
}

/** Registration and password change accept score ≥ this. */
export const MIN_ACCEPTED_SCORE: StrengthScore = 3;
export const MIN_PASSWORD_LENGTH = 12;

const COMMON = ['password', 'passwort', 'qwerty', 'letmein', 'welcome', 'admin', 'iloveyou', 'monkey', 'dragon', 'medseal', 'health', 'doctor', 'patient', 'secret', 'abc123', '123456', 'football', 'baseball', 'sunshine', 'princess'];
const RUNS = ['abcdefghijklmnopqrstuvwxyz', 'qwertyuiopasdfghjklzxcvbnm', '01234567890'];
const LABELS: Strength['label'][] = ['Very weak', 'Weak', 'Fair', 'Strong', 'Very strong'];

function poolSize(password: string): number {
  let pool = 0;
  if (/[a-z]/.test(password)) pool += 26;
  if (/[A-Z]/.test(password)) pool += 26;
  if (/[0-9]/.test(password)) pool += 10;
  if (/[^a-zA-Z0-9]/.test(password)) pool += 33;
  return Math.max(pool, 1);
}

/** Counts characters that are part of a run of ≥3 sequential or repeated characters. */
function predictableChars(lower: string): number {
  let count = 0;
  for (let i = 2; i < lower.length; i += 1) {
    const a = lower.slice(i - 2, i + 1);
    const repeated = a[0] === a[1] && a[1] === a[2];
    const inRun = RUNS.some((run) => run.includes(a) || [...run].reverse().join('').includes(a));
    if (repeated || inRun) count += 1;
  }
  return count;
}

export function estimateStrength(password: string, context: { email?: string; name?: string } = {}): Strength {
  const hints: string[] = [];
  const lower = password.toLowerCase();
  let effectiveLength = password.length - predictableChars(lower);
  for (const word of COMMON) {
    if (lower.includes(word)) {
      effectiveLength -= word.length - 1;
      hints.push('Avoid common words like “' + word + '”.');
    }
  }
  const personal = [context.email?.split('@')[0], ...(context.name?.split(/\s+/) ?? [])].filter((p): p is string => !!p && p.length >= 3);
  for (const part of personal) {
    if (lower.includes(part.toLowerCase())) {
      effectiveLength -= part.length - 1;
      hints.push('Don’t use your name or email in the password.');
    }
  }
  effectiveLength = Math.max(effectiveLength, 0);
  const bits = Math.round(effectiveLength * Math.log2(poolSize(password)));
  if (password.length < MIN_PASSWORD_LENGTH) hints.push(`Use at least ${MIN_PASSWORD_LENGTH} characters; a few unrelated words work well.`);
  let score: StrengthScore = bits < 28 ? 0 : bits < 40 ? 1 : bits < 56 ? 2 : bits < 72 ? 3 : 4;
  if (password.length < MIN_PASSWORD_LENGTH && score > 2) score = 2;
  return { score, label: LABELS[score] ?? 'Very weak', bits, hints: [...new Set(hints)] };
}
