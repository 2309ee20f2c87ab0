import { useState, type FormEvent } from 'react';
import { Link } from 'react-router';
import { describeError } from '../../api/errors';
import { PageHead } from '../../app/PageHead';
import { Banner, Button, Card, Progress, TextField } from '../../ui';
import { checkPasswordStrength, usePasswordStrength } from './passwordStrength';
import { MIN_ACCEPTED_SCORE } from './strength';
import { RecoveryKit } from './RecoveryKit';
import { StrengthMeter } from './StrengthMeter';
import type { PreparedRegistration, RegisterFlows, RegisterInput } from './flows';
import styles from './auth.module.css';

type Step =
  | { name: 'form' }
  | { name: 'working'; stage: string; fraction: number | null }
  | { name: 'kit'; prepared: PreparedRegistration }
  | { name: 'finishing' };

/**
 * Registration (issue 5): details → keys made and password stretched in the worker with
 * visible progress → recovery kit (shown once, confirmed) → account created. Nothing is sent
 * to the server before the recovery words are confirmed.
 */
export function RegisterPage({
  flows,
  onRegistered,
}: {
  flows: RegisterFlows;
  onRegistered(): void;
}) {
  const [step, setStep] = useState<Step>({ name: 'form' });
  const [form, setForm] = useState<RegisterInput & { confirm: string }>({
    role: 'patient',
    name: '',
    email: '',
    password: '',
    confirm: '',
  });
  const [error, setError] = useState<string | null>(null);
  const strength = usePasswordStrength(form.password, { email: form.email, name: form.name });

  const submit = async (event: FormEvent) => {
    event.preventDefault();
    if (!form.name.trim() || !/^[^\s@]+@[^\s@]+\.[^\s@]+$/.test(form.email.trim()))
      return setError('Please enter your name and a valid email address.');
    // A click before the estimator arrived waits for it (never refused for that).
    const checked =
      strength ??
      (await checkPasswordStrength(form.password, { email: form.email, name: form.name }));
    if (checked.score < MIN_ACCEPTED_SCORE) return setError('Please choose a stronger password.');
    if (form.password !== form.confirm) return setError('The two passwords are different.');
    setError(null);
    try {
      const prepared = await flows.prepare(
        {
          role: form.role,
          name: form.name.trim(),
          email: form.email.trim().toLowerCase(),
          password: form.password,
        },
        (stage, fraction) => setStep({ name: 'working', stage, fraction }),
      );
      setStep({ name: 'kit', prepared });
    } catch (e) {
      setError(describeError(e));
      setStep({ name: 'form' });
    }
  };

  const finish = async (prepared: PreparedRegistration) => {
    setStep({ name: 'finishing' });
    try {
      await flows.complete(prepared);
      onRegistered();
    } catch (e) {
      setError(describeError(e));
      setStep({ name: 'kit', prepared });
    }
  };

  return (
    <div className={step.name === 'kit' ? styles.wide : styles.narrow}>
      <PageHead title="Create your account" />
      {error ? <Banner tone="bad">{error}</Banner> : null}
      {step.name === 'form' ? (
        <Card>
          <form onSubmit={(e) => void submit(e)} noValidate aria-label="Create account">
            <fieldset className={styles.roles}>
              <legend>I am a</legend>
              <label>
                <input
                  type="radio"
                  name="role"
                  checked={form.role === 'patient'}
                  onChange={() => setForm({ ...form, role: 'patient' })}
                />{' '}
                Patient
              </label>
              <label>
                <input
                  type="radio"
                  name="role"
                  checked={form.role === 'doctor'}
                  onChange={() => setForm({ ...form, role: 'doctor' })}
                />{' '}
                Doctor
              </label>
            </fieldset>
            <TextField
              label="Full name"
              autoComplete="name"
              value={form.name}
              onChange={(e) => setForm({ ...form, name: e.target.value })}
            />
            <TextField
              label="Email"
              type="email"
              autoComplete="email"
              value={form.email}
              onChange={(e) => setForm({ ...form, email: e.target.value })}
            />
            <TextField
              label="Password"
              type="password"
              autoComplete="new-password"
              hint="Your password never leaves this browser; it unlocks your keys here."
              value={form.password}
              onChange={(e) => setForm({ ...form, password: e.target.value })}
            />
            {form.password && strength ? <StrengthMeter strength={strength} /> : null}
            <TextField
              label="Repeat password"
              type="password"
              autoComplete="new-password"
              value={form.confirm}
              onChange={(e) => setForm({ ...form, confirm: e.target.value })}
            />
            <Button type="submit">Create account</Button>
          </form>
          <p>
            Already registered? <Link to="/login">Log in</Link>
          </p>
        </Card>
      ) : null}
      {step.name === 'working' || step.name === 'finishing' ? (
        <Card>
          <Progress
            label={step.name === 'working' ? step.stage : 'Creating your account'}
            value={step.name === 'working' ? step.fraction : null}
          />
          <p>
            This takes a few seconds: your keys are made on this device and locked with your
            password.
          </p>
          <details>
            <summary>Technical details</summary>
            <p>
              Your password is stretched with Argon2id into two secrets: one logs you in, the other
              locks your OpenPGP private key (Ed25519 and X25519). The server gets neither your
              password nor your unlocked key.
            </p>
          </details>
        </Card>
      ) : null}
      {step.name === 'kit' ? (
        <Card>
          <RecoveryKit
            email={step.prepared.email}
            words={step.prepared.recoveryWords}
            onConfirmed={() => void finish(step.prepared)}
          />
        </Card>
      ) : null}
    </div>
  );
}
