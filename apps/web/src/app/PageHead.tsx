import { useEffect, useRef, type ReactNode } from 'react';
import styles from './layout.module.css';

/** Page title (h1) that takes focus on navigation, so screen readers hear the new page. */
export function PageHead({ title, actions }: { title: string; actions?: ReactNode }) {
  const ref = useRef<HTMLHeadingElement>(null);
  useEffect(() => {
    document.title = `${title} · Medseal`;
    ref.current?.focus();
  }, [title]);
  return (
    <div className={styles.pageHead}>
      <h1 ref={ref} tabIndex={-1}>
        {title}
      </h1>
      {actions ? <div className={styles.status}>{actions}</div> : null}
    </div>
  );
}
