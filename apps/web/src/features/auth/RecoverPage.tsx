import { useState, type FormEvent } from 'react';
import { Link } from 'react-router';
import { describeError } from '../../api/errors';
import { PageHead } from '../../app/PageHead';
import { Banner, Button, Card, Progress, TextArea, TextField } from '../../ui';
import { checkPasswordStrength, usePasswordStrength } from './passwordStrength';
import { MIN_ACCEPTED_SCORE } from './strength';
import { RecoveryKit } from './RecoveryKit';
import { StrengthMeter } from './StrengthMeter';
import styles from './auth.module.css';

/** What a finished recovery gives the page: the new kit to show, and how to go on after it. */
export interface Recovered {
  recoveryWords: string[];
  done(): void;
}

/** Lost password → recovery words → new password → the new recovery kit (DESIGN §3, issue 15 finding 9). */
export function RecoverPage({
  onRecover,
}: {
  onRecover(input: { email: string; words: string; newPassword: string }): Promise<Recovered>;
}) {
  const [email, setEmail] = useState('');
  const [words, setWords] = useState('');
  const [password, setPassword] = useState('');
  const [repeat, setRepeat] = useState('');
  const [busy, setBusy] = useState(false);
  const [error, setError] = useState<string | null>(null);
  const [recovered, setRecovered] = useState<Recovered | null>(null);
  const strength = usePasswordStrength(password, { email });
  const submit = async (e: FormEvent) => {
    e.preventDefault();
    const checked = strength ?? (await checkPasswordStrength(password, { email }));
    if (checked.score < MIN_ACCEPTED_SCORE)
      return setError('Please choose a stronger new password.');
    if (password !== repeat) return setError('The new passwords are different.');
    setError(null);
    setBusy(true);
    try {
      setRecovered(
        await onRecover({ email: email.trim().toLowerCase(), words, newPassword: password }),
      );
    } catch (err) {
      setError(describeError(err));
      setBusy(false);
    }
  };
  if (recovered) {
    return (
      <div className={styles.narrow}>
        <PageHead title="Your new recovery kit" />
        <Card>
          <Banner tone="warn">
            The recovery words you just used no longer work. Keep these new words instead.
          </Banner>
          <RecoveryKit
            email={email.trim().toLowerCase()}
            words={recovered.recoveryWords}
            onConfirmed={recovered.done}
          />
        </Card>
      </div>
    );
  }
  return (
    <div className={styles.narrow}>
      <PageHead title="Recover your account" />
      <Card>
        <p>
          Paste your recovery kit, or type its 12 words in order, then choose a new password.
          Numbers, punctuation, capitals and line breaks do not matter. Your records stay as they
          are.
        </p>
        <form onSubmit={(e) => void submit(e)} noValidate aria-label="Recover account">
          <TextField
            label="Email"
            type="email"
            autoComplete="username"
            value={email}
            onChange={(e) => setEmail(e.target.value)}
          />
          <TextArea
            label="Recovery words"
            autoComplete="off"
            spellCheck={false}
            value={words}
            onChange={(e) => setWords(e.target.value)}
          />
          <TextField
            label="New password"
            type="password"
            autoComplete="new-password"
            value={password}
            onChange={(e) => setPassword(e.target.value)}
          />
          {password && strength ? <StrengthMeter strength={strength} /> : null}
          <TextField
            label="Repeat new password"
            type="password"
            autoComplete="new-password"
            value={repeat}
            onChange={(e) => setRepeat(e.target.value)}
          />
          {error ? <Banner tone="bad">{error}</Banner> : null}
          {busy ? (
            <Progress label="Checking the words and protecting your key" value={null} />
          ) : null}
          <Button type="submit" disabled={busy}>
            Recover account
          </Button>
        </form>
        <p>
          <Link to="/login">Back to log in</Link>
        </p>
      </Card>
    </div>
  );
}
