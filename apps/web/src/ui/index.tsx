import {
  useId,
  type ButtonHTMLAttributes,
  type InputHTMLAttributes,
  type ReactNode,
  type SelectHTMLAttributes,
  type TextareaHTMLAttributes,
} from 'react';
import styles from './ui.module.css';

type Variant = 'primary' | 'secondary' | 'danger' | 'link';

export function Button({
  variant = 'primary',
  className,
  ...props
}: ButtonHTMLAttributes<HTMLButtonElement> & { variant?: Variant }) {
  const variantClass = variant === 'primary' ? '' : styles[variant];
  return (
    <button
      type="button"
      {...props}
      className={[styles.button, variantClass, className].filter(Boolean).join(' ')}
    />
  );
}

interface FieldFrame {
  label: string;
  hint?: ReactNode;
  error?: string | undefined;
}

function Frame({
  id,
  label,
  hint,
  error,
  children,
}: FieldFrame & { id: string; children: ReactNode }) {
  return (
    <div className={styles.field}>
      <label htmlFor={id}>{label}</label>
      {children}
      {hint ? (
        <span id={`${id}-hint`} className={styles.hint}>
          {hint}
        </span>
      ) : null}
      {error ? (
        <span id={`${id}-error`} className={styles.error} role="alert">
          {error}
        </span>
      ) : null}
    </div>
  );
}

function describedBy(id: string, f: FieldFrame): string | undefined {
  const ids = [f.hint ? `${id}-hint` : '', f.error ? `${id}-error` : ''].filter(Boolean);
  return ids.length > 0 ? ids.join(' ') : undefined;
}

/** A labelled input; the hint and error are tied to it with aria-describedby. */
export function TextField({
  label,
  hint,
  error,
  ...props
}: FieldFrame & InputHTMLAttributes<HTMLInputElement>) {
  const id = useId();
  return (
    <Frame id={id} label={label} hint={hint} error={error}>
      <input
        id={id}
        aria-invalid={error ? true : undefined}
        aria-describedby={describedBy(id, { label, hint, error })}
        {...props}
      />
    </Frame>
  );
}

export function TextArea({
  label,
  hint,
  error,
  ...props
}: FieldFrame & TextareaHTMLAttributes<HTMLTextAreaElement>) {
  const id = useId();
  return (
    <Frame id={id} label={label} hint={hint} error={error}>
      <textarea
        id={id}
        aria-invalid={error ? true : undefined}
        aria-describedby={describedBy(id, { label, hint, error })}
        {...props}
      />
    </Frame>
  );
}

export function SelectField({
  label,
  hint,
  error,
  children,
  ...props
}: FieldFrame & SelectHTMLAttributes<HTMLSelectElement>) {
  const id = useId();
  return (
    <Frame id={id} label={label} hint={hint} error={error}>
      <select id={id} aria-describedby={describedBy(id, { label, hint, error })} {...props}>
        {children}
      </select>
    </Frame>
  );
}

export type Tone = 'info' | 'ok' | 'warn' | 'bad';

/** A message box. `bad`/`warn` are announced immediately (role=alert), others politely. */
export function Banner({
  tone = 'info',
  title,
  children,
}: {
  tone?: Tone;
  title?: string;
  children?: ReactNode;
}) {
  return (
    <div
      className={`${styles.banner} ${styles[tone]}`}
      role={tone === 'bad' || tone === 'warn' ? 'alert' : 'status'}
    >
      {title ? <strong>{title}</strong> : null}
      {title && children ? <div>{children}</div> : children}
    </div>
  );
}

/** Labelled progress bar; `value` null shows an indeterminate bar. */
export function Progress({ label, value }: { label: string; value: number | null }) {
  const id = useId();
  return (
    <div className={styles.progress}>
      <span id={id}>
        {label}
        {value === null ? '' : ` — ${Math.round(value * 100)}%`}
      </span>
      <progress aria-labelledby={id} max={1} value={value ?? undefined} />
    </div>
  );
}

export function Badge({ tone, children }: { tone?: 'ok' | 'warn' | 'bad'; children: ReactNode }) {
  const toneClass =
    tone === 'ok'
      ? styles.badgeOk
      : tone === 'warn'
        ? styles.badgeWarn
        : tone === 'bad'
          ? styles.badgeBad
          : '';
  return <span className={`${styles.badge} ${toneClass}`}>{children}</span>;
}

export function Card({ children, labelledBy }: { children: ReactNode; labelledBy?: string }) {
  return (
    <section className={styles.card} aria-labelledby={labelledBy}>
      {children}
    </section>
  );
}

export const uiStyles = styles;
export { Dialog } from './Dialog';
