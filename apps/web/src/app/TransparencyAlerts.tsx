import { useState, useSyncExternalStore } from 'react';
import { Banner, Button } from '../ui';
import type { AccountStateBook } from './accountState';
import { fingerprintGroups } from '../features/sharing/Fingerprint';
import { formatDateTime } from './dates';
import { alertId, type KeyTransparency, type TransparencyAlert } from './transparency';

const on = (at: number) => formatDateTime(new Date(at));
const roleWords = (role: string) => (role === 'staff' ? 'a staff member' : `a ${role}`);

/** The title of each alert (STYLE.md §20: one place per status). */
function titleOf(alert: TransparencyAlert): string {
  switch (alert.kind) {
    case 'foreign-key':
      return 'Security alert: a key that is not yours was published for your account.';
    case 'own-key-missing':
      return 'Security alert: your key is not in the public key log.';
    case 'team-foreign':
      return `Security alert: a change of the team ${alert.teamName} that is not in its signed history was published.`;
    case 'team-membership':
      return `Check this: the public key log lists you as a member of the care team ${alert.teamName} (${alert.practiceName}).`;
    case 'memberships-withheld':
      return 'Security alert: the server hid care teams that list you as a member.';
    case 'split-view':
      return 'Security alert: the server shows you a different public key log than it showed others.';
    case 'log-refused':
      return 'Security alert: the public key log could not be trusted.';
  }
}

/** One plain message per alert, each event with its date. */
function AlertText({ alert }: { alert: TransparencyAlert }) {
  switch (alert.kind) {
    case 'foreign-key':
      return (
        <>
          {alert.bindings.map((b) => (
            <p key={`${b.fingerprint}:${b.at}`} data-kt-foreign={b.fingerprint}>
              A different key was published for you on {on(b.at)}. Anyone who shared records with
              you since then may have shared them with whoever holds that key.
            </p>
          ))}
          {alert.withheld > 0 && (
            <p data-kt-withheld={alert.withheld}>
              The log holds {alert.withheld === 1 ? 'a key' : `${alert.withheld} keys`} for your
              account that the server hid from you. Anyone who shared records with you may have
              shared them with whoever holds {alert.withheld === 1 ? 'that key' : 'those keys'}.
            </p>
          )}
          <p>
            If you did not make a new key on that day, tell the people who share records with you,
            and compare numbers with them before they share again.
          </p>
        </>
      );
    case 'own-key-missing':
      return (
        <p>
          Every key must be published in the log so that others can check it. The server may be
          handing out a key for you that nobody can check.
        </p>
      );
    case 'team-foreign':
      return (
        <>
          {alert.changes.map((c) => (
            <p key={`${c.seq}:${c.at}`} data-kt-team-change={c.seq}>
              A team key or membership change (change {c.seq}) was published for {alert.teamName} on{' '}
              {on(c.at)} that is not in the team’s signed history.
            </p>
          ))}
          {alert.withheld > 0 && (
            <p data-kt-team-withheld={alert.withheld}>
              The log holds {alert.withheld === 1 ? 'a change' : `${alert.withheld} changes`} of{' '}
              {alert.teamName} that the server hid from you.
            </p>
          )}
          <p>
            If you administer this team and no admin made that change, someone may be adding a
            member or a key behind your back, or showing some people another history of the team.
            Medseal does not use this team until it is resolved: tell the team’s other admins.
          </p>
        </>
      );
    case 'team-membership':
      return (
        <>
          <p data-kt-membership={`${alert.teamId}:${alert.seq}`}>
            On {on(alert.at)} a statement signed by the key {fingerprintGroups(alert.by).join(' ')}{' '}
            made you {roleWords(alert.role)}
            {alert.admin ? ' and an admin' : ''} in {alert.teamName} ({alert.practiceName}).
            Patients are shown the members of a team as attested by it, and may share records with
            the whole team.
          </p>
          <p>
            If you agreed to join this team, mark this as read. If you did not, someone may be using
            your name: tell the practice, and the people who share records with you, before they
            share with that team.
          </p>
        </>
      );
    case 'memberships-withheld':
      return (
        <p data-kt-memberships-withheld={alert.withheld}>
          The public key log lists you as a member of{' '}
          {alert.withheld === 1 ? 'a care team' : `${alert.withheld} care teams`} that the server
          did not show you. Someone may be using your name to look attested: tell the people who
          share records with you before they share with a team you do not know.
        </p>
      );
    case 'split-view':
      return (
        <p>
          Seen on {on(alert.at)}: {alert.source} was written with a view of the public key log that
          does not match yours. The server may be showing different people different keys. Compare
          numbers with people in person before you share.
        </p>
      );
    case 'log-refused':
      return (
        <p>
          {alert.reason} Until it can be checked, Medseal takes no key from the server’s directory:
          sharing is blocked.
        </p>
      );
  }
}

/**
 * The key-transparency alerts of this session, above everything else in the workspace. An alert
 * can be acknowledged: it then moves to a short list of acknowledged alerts (kept in the account
 * state, so on every device), and shows in full again only for a new, different event.
 */
export function TransparencyAlerts({
  transparency,
  book,
}: {
  transparency: KeyTransparency;
  book: AccountStateBook;
}) {
  const alerts = useSyncExternalStore(
    (listener) => transparency.subscribe(listener),
    () => transparency.alerts,
  );
  const acknowledged = useSyncExternalStore(
    (listener) => book.subscribe(listener),
    () => book.acknowledgedAlerts,
  );
  const [failed, setFailed] = useState<string | null>(null);
  if (alerts.length === 0) return null;
  const ackOf = (alert: TransparencyAlert) => acknowledged.find((a) => a.id === alertId(alert));
  const open = alerts.filter((a) => !ackOf(a));
  const done = alerts.filter((a) => ackOf(a));
  const acknowledge = (alert: TransparencyAlert) => {
    setFailed(null);
    book
      .acknowledgeAlert(alertId(alert), new Date())
      .catch((error: unknown) =>
        setFailed(
          `The alert could not be marked as read: ${error instanceof Error ? error.message : String(error)}`,
        ),
      );
  };
  return (
    <div data-testid="kt-alerts">
      {open.map((alert) => (
        <Banner
          key={alertId(alert)}
          tone={alert.kind === 'team-membership' ? 'warn' : 'bad'}
          title={titleOf(alert)}
        >
          <AlertText alert={alert} />
          <Button variant="secondary" onClick={() => acknowledge(alert)}>
            I have read this alert
          </Button>
        </Banner>
      ))}
      {failed ? <Banner tone="warn">{failed}</Banner> : null}
      {done.length > 0 ? (
        <details data-testid="kt-acknowledged">
          <summary>Acknowledged security alerts ({done.length})</summary>
          {done.map((alert) => (
            <div key={alertId(alert)}>
              <strong>{titleOf(alert)}</strong>{' '}
              <span>(acknowledged on {formatDateTime(ackOf(alert)?.at ?? new Date())})</span>
              <AlertText alert={alert} />
            </div>
          ))}
        </details>
      ) : null}
    </div>
  );
}
