// Loaded only by usePasswordStrength's dynamic import: zxcvbn-ts and its dictionaries stay out
// of the first page's bundle, in a chunk fetched by the pages that ask for a new password.
import { ZxcvbnFactory } from '@zxcvbn-ts/core';
import { adjacencyGraphs, dictionary as commonWords } from '@zxcvbn-ts/language-common';
import { dictionary as englishWords, translations } from '@zxcvbn-ts/language-en';
import {
  MIN_PASSWORD_LENGTH,
  STRENGTH_LABELS,
  type Strength,
  type StrengthContext,
} from './strength';

const zxcvbn = new ZxcvbnFactory({
  translations,
  graphs: adjacencyGraphs,
  dictionary: { ...commonWords, ...englishWords },
});

/**
 * zxcvbn's estimate (dictionary words, names, dates, keyboard patterns, l33t, the user's own
 * name and email), capped at "Fair" below the minimum length; its warning and suggestions are
 * the hints.
 */
export function estimateStrength(password: string, context: StrengthContext = {}): Strength {
  const personal = [
    context.email,
    context.email?.split('@')[0],
    ...(context.name?.split(/\s+/) ?? []),
  ].filter((p): p is string => !!p && p.length >= 3);
  const result = zxcvbn.check(password, personal);
  const short = password.length < MIN_PASSWORD_LENGTH;
  const score = short ? Math.min(result.score, 2) : result.score;
  const hints = [
    result.feedback.warning,
    ...result.feedback.suggestions,
    short
      ? `Use at least ${MIN_PASSWORD_LENGTH} characters; a few unrelated words work well.`
      : null,
  ];
  return {
    score: score as Strength['score'],
    label: STRENGTH_LABELS[score] ?? 'Very weak',
    bits: Math.round(result.guessesLog10 * Math.log2(10)),
    hints: [...new Set(hints.filter((h): h is string => !!h))],
  };
}
