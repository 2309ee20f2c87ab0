import type { AuditAction } from '@medseal/contract';
import { Banner, uiStyles } from '../../ui';

export interface AccessLogRow {
  key: string;
  at: string;
  actor: string;
  action: AuditAction;
  record: string;
}

const ACTION_WORDS: Record<AuditAction, string> = {
  create: 'created',
  read: 'opened',
  update: 'changed',
  share: 'shared',
  revoke: 'revoked access to',
  delete: 'deleted',
  attach: 'attached a file to',
  'read-attachment': 'downloaded a file of',
  'delete-attachment': 'removed a file from',
};

/** Who did what to which of my records, newest first; broken hash chains are called out. */
export function AccessLogTable({ rows, broken }: { rows: AccessLogRow[]; broken: { record: string; seq: number }[] }) {
  return (
    <>
      {broken.length > 0 ? (
        <Banner tone="bad" title="The access trail of some records failed its integrity check.">
          Entries may have been removed or changed on the server: {broken.map((b) => `${b.record} (from entry ${b.seq})`).join(', ')}.
        </Banner>
      ) : rows.length > 0 ? (
        <Banner tone="ok">The access trail of every record checked out: its hash chain is intact.</Banner>
      ) : null}
      {rows.length === 0 ? (
        <p>No activity yet.</p>
      ) : (
        <table className={uiStyles.table}>
          <caption className="visually-hidden">Access log</caption>
          <thead>
            <tr>
              <th scope="col">When</th>
              <th scope="col">Who</th>
              <th scope="col">What</th>
              <th scope="col">Record</th>
            </tr>
          </thead>
          <tbody>
            {rows.map((r) => (
              <tr key={r.key} data-action={r.action}>
                <td>{new Date(r.at).toLocaleString()}</td>
                <td>{r.actor}</td>
                <td>{ACTION_WORDS[r.action]}</td>
                <td>{r.record}</td>
              </tr>
            ))}
          </tbody>
        </table>
      )}
    </>
  );
}
