import type { AuditAction } from '@medseal/contract';
import { formatDay, formatTime } from '../../app/dates';
import { Banner, uiStyles } from '../../ui';
import { explainTrailProblem, type AccessLogRow, type FailedTrail } from './accessLog';
import styles from './audit.module.css';

const ACTION_WORDS: Record<AuditAction, string> = {
  create: 'created',
  list: 'saw it in a list',
  read: 'opened',
  update: 'changed',
  share: 'shared',
  revoke: 'revoked access to',
  delete: 'deleted',
  attach: 'attached a file to',
  'read-attachment': 'downloaded a file of',
  'delete-attachment': 'removed a file from',
};

/** One person's same action on one record on one day. */
interface Entry {
  key: string;
  action: AuditAction;
  record: string;
  times: string[];
}

/** A person's activity on one day. */
interface Group {
  key: string;
  actor: string;
  day: string;
  entries: Entry[];
}

/** Rows (newest first) grouped by day, then person, then record and action, in that order. */
export function groupAccessLog(rows: readonly AccessLogRow[]): Group[] {
  const groups = new Map<string, Group>();
  for (const row of rows) {
    const day = formatDay(row.at);
    const groupKey = `${day}\u0000${row.actor}`;
    let group = groups.get(groupKey);
    if (!group) {
      group = { key: groupKey, actor: row.actor, day, entries: [] };
      groups.set(groupKey, group);
    }
    let entry = group.entries.find((e) => e.action === row.action && e.record === row.record);
    if (!entry) {
      entry = { key: row.key, action: row.action, record: row.record, times: [] };
      group.entries.push(entry);
    }
    entry.times.push(row.at);
  }
  return [...groups.values()];
}

function when(times: readonly string[]): string {
  const first = times[times.length - 1] ?? '';
  const last = times[0] ?? '';
  const count = times.length > 1 ? ` (${times.length} times)` : '';
  const [from, to] = [formatTime(first), formatTime(last)];
  return `${from === to ? to : `${from}–${to}`}${count}`;
}

/**
 * Who did what to which of my records: by day and person, each person's same action on the
 * same record once with its times, "saw it in a list" apart from "opened". Below 600 px each
 * row is a small block (no sideways scrolling at 390 px).
 */
export function AccessLogTable({ rows, failed }: { rows: AccessLogRow[]; failed: FailedTrail[] }) {
  return (
    <>
      {failed.length > 0 ? (
        <Banner
          tone="bad"
          title="Security warning: the access trail of some records was tampered with. Their entries are not shown."
        >
          <ul>
            {failed.map((f, i) => (
              <li key={i}>
                {f.record}: {explainTrailProblem(f.problem)}.
              </li>
            ))}
          </ul>
        </Banner>
      ) : rows.length > 0 ? (
        <Banner tone="ok">
          Checked by this app: the access log of every record is intact, nothing you saw before was
          removed or changed.
        </Banner>
      ) : null}
      {rows.length === 0 ? (
        <p>No activity yet.</p>
      ) : (
        <table className={`${uiStyles.table} ${styles.log}`}>
          <caption className="visually-hidden">Access log, by day and person</caption>
          <thead>
            <tr>
              <th scope="col">Who</th>
              <th scope="col">What</th>
              <th scope="col">Record</th>
              <th scope="col">When</th>
            </tr>
          </thead>
          {groupAccessLog(rows).map((g) => (
            <tbody key={g.key} aria-label={`${g.actor}, ${g.day}`}>
              <tr className={styles.group}>
                <th scope="rowgroup" colSpan={4}>
                  {g.actor} · {g.day}
                </th>
              </tr>
              {g.entries.map((e) => (
                <tr key={e.key} data-action={e.action}>
                  <td className={styles.who}>{g.actor}</td>
                  <td>{ACTION_WORDS[e.action]}</td>
                  <td className={styles.record}>{e.record}</td>
                  <td className={styles.when}>{when(e.times)}</td>
                </tr>
              ))}
            </tbody>
          ))}
        </table>
      )}
    </>
  );
}
