import { useSyncExternalStore } from 'react';
import { Banner } from '../ui';
import { formatDateTime } from './dates';
import type { KeyTransparency, TransparencyAlert } from './transparency';

/** One plain message per alert (STYLE.md §20). */
function AlertBanner({ alert }: { alert: TransparencyAlert }) {
  switch (alert.kind) {
    case 'foreign-key':
      return (
        <Banner tone="bad" title="Security alert: a key that is not yours was published for your account.">
          {alert.bindings.map((b) => (
            <p key={`${b.fingerprint}:${b.at}`} data-kt-foreign={b.fingerprint}>
              A different key was published for you on {formatDateTime(new Date(b.at))}. Anyone who shared records with you since then may have shared them with whoever holds that key.
            </p>
          ))}
          <p>If you did not make a new key on that day, tell the people who share records with you, and compare your key fingerprint with them before they share again.</p>
        </Banner>
      );
    case 'own-key-missing':
      return (
        <Banner tone="bad" title="Security alert: your key is not in the public key log.">
          <p>Every key must be published in the log so that others can check it. The server may be handing out a key for you that nobody can check.</p>
        </Banner>
      );
    case 'split-view':
      return (
        <Banner tone="bad" title="Security alert: the server shows you a different public key log than it showed others.">
          <p>{alert.source} was written with a view of the public key log that does not match yours. The server may be showing different people different keys. Compare key fingerprints in person before you share.</p>
        </Banner>
      );
    case 'log-refused':
      return (
        <Banner tone="bad" title="Security alert: the public key log could not be trusted.">
          <p>{alert.reason} Until it can be checked, Medseal takes no key from the server’s directory: sharing is blocked.</p>
        </Banner>
      );
  }
}

/** The key-transparency alerts of this session, above everything else in the workspace. */
export function TransparencyAlerts({ transparency }: { transparency: KeyTransparency }) {
  const alerts = useSyncExternalStore(
    (listener) => transparency.subscribe(listener),
    () => transparency.alerts,
  );
  if (alerts.length === 0) return null;
  return (
    <div data-testid="kt-alerts">
      {alerts.map((alert) => (
        <AlertBanner key={JSON.stringify(alert)} alert={alert} />
      ))}
    </div>
  );
}
