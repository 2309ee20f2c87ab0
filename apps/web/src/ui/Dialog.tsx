import { useEffect, useId, useRef, type ReactNode } from 'react';
import styles from './ui.module.css';

/**
 * A modal dialog on the native `<dialog>` shown with `showModal()`: the browser moves focus in,
 * makes the rest of the page inert (focus stays inside) and closes on Escape, which calls
 * `onClose`; focus goes back to where it was when the dialog opened. The title is its heading
 * (h2: the page's h1 stays the only h1). `wide` for dialogs with more than a question (sharing,
 * comparing numbers).
 */
export function Dialog({
  open,
  title,
  wide = false,
  onClose,
  children,
}: {
  open: boolean;
  title: string;
  wide?: boolean;
  onClose(): void;
  children: ReactNode;
}) {
  const ref = useRef<HTMLDialogElement>(null);
  const titleId = useId();
  useEffect(() => {
    const dialog = ref.current;
    if (!dialog || !open) return;
    const returnTo = document.activeElement;
    dialog.showModal();
    // showModal focuses the first control; a dialog asking to confirm something that cannot be
    // undone marks its safe choice (Cancel) instead, so Enter never does the harm.
    dialog.querySelector<HTMLElement>('[data-autofocus]')?.focus();
    return () => {
      dialog.close();
      if (returnTo instanceof HTMLElement && returnTo.isConnected) returnTo.focus();
    };
  }, [open]);
  return (
    <dialog
      ref={ref}
      className={wide ? `${styles.dialog} ${styles.wide}` : styles.dialog}
      aria-labelledby={titleId}
      aria-modal="true"
      onCancel={(e) => {
        // Escape: the owner decides (it sets `open` to false, which closes it).
        e.preventDefault();
        onClose();
      }}
    >
      {open ? (
        <>
          <h2 id={titleId}>{title}</h2>
          {children}
        </>
      ) : null}
    </dialog>
  );
}
