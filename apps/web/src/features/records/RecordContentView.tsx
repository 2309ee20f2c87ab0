import { uiStyles } from '../../ui';
import { KIND_LABELS, type AttachmentRef, type RecordContent } from './content';
import styles from './records.module.css';
import { formatDay } from '../../app/dates';

/**
 * Shows a record's content. Only ever called with content whose signature and context were
 * verified (the record page renders a tamper warning instead otherwise).
 */
export function RecordContentView({
  content,
  renderAttachment,
  showTitle = true,
}: {
  content: RecordContent;
  renderAttachment?: (a: AttachmentRef) => React.ReactNode;
  showTitle?: boolean;
}) {
  return (
    <article aria-label={content.title}>
      {showTitle ? <h2>{content.title}</h2> : null}
      <dl className={styles.dl}>
        <dt>Kind</dt>
        <dd>{KIND_LABELS[content.kind]}</dd>
        <dt>Date</dt>
        <dd>{formatDay(content.date)}</dd>
        {content.kind === 'prescription' ? (
          <>
            <dt>Drug</dt>
            <dd>{content.drug}</dd>
            <dt>Dose</dt>
            <dd>{content.dose}</dd>
            <dt>Schedule</dt>
            <dd>{content.schedule}</dd>
          </>
        ) : null}
        {content.kind === 'letter' && content.recipientName ? (
          <>
            <dt>Addressed to</dt>
            <dd>{content.recipientName}</dd>
          </>
        ) : null}
      </dl>
      {content.kind === 'lab' && content.values.length > 0 ? (
        <table className={uiStyles.table}>
          <caption className="visually-hidden">Results</caption>
          <thead>
            <tr>
              <th scope="col">Test</th>
              <th scope="col">Value</th>
              <th scope="col">Unit</th>
              <th scope="col">Reference range</th>
            </tr>
          </thead>
          <tbody>
            {content.values.map((v, i) => (
              <tr key={i}>
                <td>{v.name}</td>
                <td>{v.value}</td>
                <td>{v.unit}</td>
                <td>{v.range ?? ''}</td>
              </tr>
            ))}
          </tbody>
        </table>
      ) : null}
      {content.body ? <p className={styles.body}>{content.body}</p> : null}
      {content.attachments.length > 0 ? (
        <>
          <h3>Attachments</h3>
          <ul className={styles.fileList}>
            {content.attachments.map((a) => (
              <li key={a.id}>
                <span>
                  {a.name} <span className={uiStyles.hint}>({formatBytes(a.size)})</span>
                </span>
                {renderAttachment?.(a)}
              </li>
            ))}
          </ul>
        </>
      ) : null}
    </article>
  );
}

export function formatBytes(n: number): string {
  if (n < 1024) return `${n} B`;
  if (n < 1024 * 1024) return `${(n / 1024).toFixed(1)} KiB`;
  return `${(n / 1024 / 1024).toFixed(1)} MiB`;
}
