import { useState, type FormEvent } from 'react';
import { Link } from 'react-router';
import type { Me } from '@medseal/contract';
import { describeError } from '../../api/errors';
import { PageHead } from '../../app/PageHead';
import { Banner, Button, Card, Progress, TextField } from '../../ui';
import styles from './auth.module.css';

export interface LoginSubmit {
  email: string;
  password: string;
  stayUnlocked: boolean;
}

/**
 * Log in, or unlock again after a reload / "lock now" (then the email is fixed). The password
 * is stretched in the worker; only the derived login secret goes to the server.
 */
export function LoginPage({
  lockedUser,
  onSubmit,
}: {
  lockedUser?: Me;
  onSubmit(input: LoginSubmit, onProgress: (fraction: number | null) => void): Promise<void>;
}) {
  const [email, setEmail] = useState(lockedUser?.email ?? '');
  const [password, setPassword] = useState('');
  const [stayUnlocked, setStayUnlocked] = useState(false);
  const [progress, setProgress] = useState<number | null | undefined>(undefined);
  const [error, setError] = useState<string | null>(null);

  const submit = async (event: FormEvent) => {
    event.preventDefault();
    if (!email || !password) return setError('Please enter your email and password.');
    setError(null);
    setProgress(null);
    try {
      await onSubmit({ email: email.trim().toLowerCase(), password, stayUnlocked }, (f) =>
        setProgress(f),
      );
    } catch (e) {
      setError(describeError(e));
      setProgress(undefined);
    }
  };

  return (
    <div className={styles.narrow}>
      <PageHead title={lockedUser ? 'Unlock Medseal' : 'Log in'} />
      {lockedUser ? (
        <Banner tone="info">
          Your keys are locked. Enter your password to unlock them in this tab.
        </Banner>
      ) : null}
      {error ? <Banner tone="bad">{error}</Banner> : null}
      <Card>
        <form
          onSubmit={(e) => void submit(e)}
          noValidate
          aria-label={lockedUser ? 'Unlock' : 'Log in'}
        >
          <TextField
            label="Email"
            type="email"
            autoComplete="username"
            value={email}
            readOnly={!!lockedUser}
            onChange={(e) => setEmail(e.target.value)}
          />
          <TextField
            label="Password"
            type="password"
            autoComplete="current-password"
            value={password}
            onChange={(e) => setPassword(e.target.value)}
          />
          <label className={styles.check}>
            <input
              type="checkbox"
              checked={stayUnlocked}
              onChange={(e) => setStayUnlocked(e.target.checked)}
            />
            <span>
              Stay unlocked in this tab
              <br />
              <small>
                Reloading this tab won’t ask for the password again. Closing the tab or logging out
                locks it.
              </small>
            </span>
          </label>
          {progress !== undefined ? (
            <Progress label="Unlocking your keys" value={progress} />
          ) : null}
          <Button type="submit" disabled={progress !== undefined}>
            {lockedUser ? 'Unlock' : 'Log in'}
          </Button>
        </form>
        {lockedUser ? null : (
          <p>
            New here? <Link to="/register">Create an account</Link> ·{' '}
            <Link to="/recover">Forgot your password?</Link>
          </p>
        )}
      </Card>
    </div>
  );
}
