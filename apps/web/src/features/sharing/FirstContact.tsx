import { Button, uiStyles } from '../../ui';

/**
 * The first-contact step: nobody compared this key yet (sharing with a person or a care team,
 * adding a team member). Comparing is the default (focused) action; going on without it is
 * possible but never the default (DESIGN §12 "Keys").
 */
export function FirstContact({
  name,
  heading = `First time sharing with ${name}`,
  what,
  proceedLabel = 'Share without comparing',
  busy,
  onCompare,
  onProceed,
  onCancel,
}: {
  /** Whose key nobody compared. */
  name: string;
  heading?: string;
  /** What the holder of a swapped key could read. */
  what: string;
  proceedLabel?: string;
  busy: boolean;
  onCompare(): void;
  onProceed(): void;
  onCancel(): void;
}) {
  return (
    <section aria-labelledby="first-contact-title">
      <h3 id="first-contact-title">{heading}</h3>
      <p>
        You have not compared numbers with {name} yet. If the server gave you someone else’s key,
        that person could read {what}. Compare the numbers with {name} — in person or on a call you
        started — first.
      </p>
      <div className={uiStyles.row}>
        {/* Focused: the safe choice is the one Enter picks. */}
        <Button autoFocus disabled={busy} onClick={onCompare}>
          Compare numbers first
        </Button>
        <Button variant="secondary" disabled={busy} onClick={onProceed}>
          {proceedLabel}
        </Button>
        <Button variant="link" disabled={busy} onClick={onCancel}>
          Cancel
        </Button>
      </div>
    </section>
  );
}
