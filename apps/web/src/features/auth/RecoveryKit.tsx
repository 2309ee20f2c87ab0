import { useMemo, useState, type FormEvent } from 'react';
import { Banner, Button, TextField } from '../../ui';
import styles from './auth.module.css';

/** How many words the user must type back before the account is usable. */
export const WORDS_TO_CONFIRM = 3;

function pickPositions(count: number, total: number): number[] {
  const picked = new Set<number>();
  const random = new Uint32Array(1);
  while (picked.size < Math.min(count, total)) {
    crypto.getRandomValues(random);
    picked.add((random[0] ?? 0) % total);
  }
  return [...picked].sort((a, b) => a - b);
}

export function recoveryKitText(email: string, words: string[]): string {
  return [
    'Medseal recovery kit',
    '',
    `Account: ${email}`,
    '',
    'Recovery words (in order):',
    ...words.map((w, i) => `${String(i + 1).padStart(2, ' ')}. ${w}`),
    '',
    'Keep this somewhere safe and offline. With these words you can set a new password if you',
    'forget yours. If you lose both your password and these words, nobody - not Medseal, not',
    'your doctor - can open your records again: they are encrypted with keys only you hold.',
    '',
  ].join('\n');
}

/**
 * The recovery kit step of registration (DESIGN §3): the words are shown once, can be saved
 * or printed, and a few must be typed back before the account is usable.
 */
export function RecoveryKit({
  email,
  words,
  onConfirmed,
}: {
  email: string;
  words: string[];
  onConfirmed(): void;
}) {
  const positions = useMemo(() => pickPositions(WORDS_TO_CONFIRM, words.length), [words]);
  const [answers, setAnswers] = useState<Record<number, string>>({});
  const [understood, setUnderstood] = useState(false);
  const [error, setError] = useState<string | null>(null);

  const download = () => {
    const blob = new Blob([recoveryKitText(email, words)], { type: 'text/plain' });
    const url = URL.createObjectURL(blob);
    const a = document.createElement('a');
    a.href = url;
    a.download = 'medseal-recovery-kit.txt';
    a.click();
    setTimeout(() => URL.revokeObjectURL(url), 1000);
  };

  const submit = (event: FormEvent) => {
    event.preventDefault();
    const wrong = positions.filter((p) => (answers[p] ?? '').trim().toLowerCase() !== words[p]);
    if (wrong.length > 0) {
      setError(
        `Word ${wrong.map((p) => p + 1).join(', ')} does not match. Check your copy of the recovery words.`,
      );
      return;
    }
    if (!understood) {
      setError('Please confirm that you understand what happens if both are lost.');
      return;
    }
    setError(null);
    onConfirmed();
  };

  return (
    <div>
      <h2>Your recovery words</h2>
      <p>
        These {words.length} words are the only way back into your account if you forget your
        password. They are shown <strong>only this time</strong>. Write them down, print them, or
        save the file somewhere offline.
      </p>
      <ol className={styles.words} aria-label="Recovery words">
        {words.map((w, i) => (
          <li key={i}>
            <span className={styles.num}>{i + 1}.</span>
            {w}
          </li>
        ))}
      </ol>
      <div
        className="row no-print"
        style={{ display: 'flex', gap: 10, flexWrap: 'wrap', marginBottom: 16 }}
      >
        <Button variant="secondary" onClick={download}>
          Download recovery kit
        </Button>
        <Button variant="secondary" onClick={() => window.print()}>
          Print
        </Button>
      </div>
      <Banner
        tone="warn"
        title="If you lose both your password and these words, your records are gone."
      >
        Your records are encrypted with keys only you hold. Medseal cannot reset them, and neither
        can your doctor. Records you shared stay readable by the people you shared them with.
      </Banner>
      <form onSubmit={submit} className="no-print" aria-label="Confirm recovery words">
        <h3>Check your copy</h3>
        {positions.map((p) => (
          <TextField
            key={p}
            label={`Word ${p + 1}`}
            autoComplete="off"
            spellCheck={false}
            value={answers[p] ?? ''}
            onChange={(e) => setAnswers((a) => ({ ...a, [p]: e.target.value }))}
          />
        ))}
        <label className={styles.check}>
          <input
            type="checkbox"
            checked={understood}
            onChange={(e) => setUnderstood(e.target.checked)}
          />
          <span>
            I understand that without my password and without these words nobody can recover my
            records.
          </span>
        </label>
        {error ? <Banner tone="bad">{error}</Banner> : null}
        <Button type="submit">I have saved my recovery words</Button>
      </form>
    </div>
  );
}
