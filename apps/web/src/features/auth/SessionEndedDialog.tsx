import { useState, type FormEvent } from 'react';
import { describeError } from '../../api/errors';
import { Banner, Button, Dialog, Progress, TextField, uiStyles } from '../../ui';

/**
 * Shown in place when the server ended the session (401 on any request) while the keys are
 * unlocked: the password makes a new session and the page underneath, with what was typed in
 * it, stays as it was.
 */
export function SessionEndedDialog({
  open,
  email,
  onResume,
  onClose,
  onLogout,
}: {
  open: boolean;
  email: string;
  onResume(password: string, onProgress: (fraction: number | null) => void): Promise<void>;
  onClose(): void;
  onLogout(): void;
}) {
  const [password, setPassword] = useState('');
  const [progress, setProgress] = useState<number | null | undefined>(undefined);
  const [error, setError] = useState<string | null>(null);
  const submit = async (event: FormEvent) => {
    event.preventDefault();
    if (!password) return setError('Please enter your password.');
    setError(null);
    setProgress(null);
    try {
      await onResume(password, (f) => setProgress(f));
      setPassword('');
    } catch (e) {
      setError(describeError(e));
    } finally {
      setProgress(undefined);
    }
  };
  return (
    <Dialog open={open} title="Please log in again" onClose={onClose}>
      <p>
        Your session on the server has ended. Enter the password of {email} to carry on where you
        were: nothing you typed on this page is lost.
      </p>
      {error ? <Banner tone="bad">{error}</Banner> : null}
      <form onSubmit={(e) => void submit(e)} noValidate aria-label="Log in again">
        <TextField
          label="Password"
          type="password"
          autoComplete="current-password"
          value={password}
          onChange={(e) => setPassword(e.target.value)}
        />
        {progress !== undefined ? <Progress label="Logging in" value={progress} /> : null}
        <div className={uiStyles.row}>
          <Button type="submit" disabled={progress !== undefined}>
            Log in and continue
          </Button>
          <Button variant="secondary" onClick={onLogout}>
            Log out
          </Button>
        </div>
      </form>
    </Dialog>
  );
}
