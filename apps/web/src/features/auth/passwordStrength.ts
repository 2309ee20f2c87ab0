import { useEffect, useMemo, useState } from 'react';

import type { Strength, StrengthContext } from './strength';

/**
 * Password strength for the forms that set a password (register, recovery, change). The
 * estimate is zxcvbn-ts (./zxcvbn.ts), which with its dictionaries is too big for the first
 * page: it is imported when one of those forms appears.
 */
type Estimator = (password: string, context?: StrengthContext) => Strength;

/** The strength of `password`, loading the estimator first if needed (for a form's submit). */
export async function checkPasswordStrength(
  password: string,
  context: StrengthContext = {},
): Promise<Strength> {
  return (await import('./zxcvbn')).estimateStrength(password, context);
}

/**
 * The strength of `password`, or null while the estimator loads (forms refuse to submit
 * until it is there). If it cannot load, every password is "Very weak" with a hint to reload.
 */
export function usePasswordStrength(
  password: string,
  context: StrengthContext = {},
): Strength | null {
  const [estimator, setEstimator] = useState<{ estimate: Estimator } | null>(null);
  useEffect(() => {
    let live = true;
    import('./zxcvbn').then(
      (m) => live && setEstimator({ estimate: m.estimateStrength }),
      () =>
        live &&
        setEstimator({
          estimate: () => ({
            score: 0,
            label: 'Very weak',
            bits: 0,
            hints: ['The strength check could not load. Please reload the page.'],
          }),
        }),
    );
    return () => {
      live = false;
    };
  }, []);
  const { email, name } = context;
  return useMemo(
    () =>
      estimator
        ? estimator.estimate(password, { ...(email ? { email } : {}), ...(name ? { name } : {}) })
        : null,
    [estimator, password, email, name],
  );
}
