import type { Strength } from './strength';
import styles from './auth.module.css';

const COLORS = ['#b3261e', '#c05a00', '#a68a00', '#2e7d32', '#1e6b3a'];

export function StrengthMeter({ strength }: { strength: Strength }) {
  return (
    <div aria-live="polite">
      <div
        className={styles.meter}
        role="meter"
        aria-label="Password strength"
        aria-valuemin={0}
        aria-valuemax={4}
        aria-valuenow={strength.score}
        aria-valuetext={strength.label}
      >
        <div
          className={styles.meterFill}
          style={{
            width: `${((strength.score + 1) / 5) * 100}%`,
            background: COLORS[strength.score],
          }}
        />
      </div>
      <small>
        Strength: <strong>{strength.label}</strong>
        {strength.hints[0] ? ` — ${strength.hints[0]}` : ''}
      </small>
    </div>
  );
}
