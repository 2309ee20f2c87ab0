import { useState, type ReactNode } from 'react';
import { Link, useParams } from 'react-router';
import { useQueries, useQuery, type UseQueryResult } from '@tanstack/react-query';
import { endpoints } from '@medseal/contract';
import { describeError } from '../../api/errors';
import { PageHead } from '../../app/PageHead';
import { useWorkspace } from '../../app/workspace';
import { Banner, Button, Card, uiStyles } from '../../ui';
import { RecordContentView } from './RecordContentView';
import { fetchRecordDto, openVersion, versionsLeftOut, type OpenedVersion } from './recordService';
import { VerificationBanner } from './VerificationBanner';
import { formatDateTime } from '../../app/dates';

/** Every version of a record (versions are immutable); each opens with full verification. */
export function HistoryPage() {
  const { recordId = '' } = useParams();
  const { deps } = useWorkspace();
  const history = useQuery({
    queryKey: ['history', recordId],
    queryFn: () => deps.call(endpoints.recordHistory, { params: { recordId } }),
  });
  const current = useQuery({
    queryKey: ['record-dto', recordId],
    queryFn: () => fetchRecordDto(deps, recordId),
  });
  // Each version's author and time are shown from its signed envelope (DESIGN §12): every
  // listed version is opened with every check (whether it is for me is what opening it says,
  // not the server's reader list); the server's authorId and createdAt are never shown.
  const listed = (history.data?.versions ?? []).map((v) => v.version);
  // Versions are numbered 1, 2, … with no gap: one missing was left out. (Up to the last one
  // listed: the current version may be newer than the list, written since it was fetched.)
  const last = Math.max(0, ...listed);
  const missing = versionsLeftOut(listed, last);
  const opened = useQueries({
    queries: listed.map((n) => ({
      queryKey: ['version', recordId, n, deps.stamp],
      enabled: !!current.data,
      gcTime: 0,
      queryFn: () =>
        current.data ? openVersion(deps, current.data, n) : Promise.reject(new Error('no version')),
    })),
  });
  const openedBy = new Map(listed.map((n, i) => [n, opened[i]]));
  const [selected, setSelected] = useState<number | null>(null);
  const version = selected === null ? undefined : openedBy.get(selected);
  return (
    <>
      <PageHead
        title="Version history"
        actions={<Link to={`/records/${recordId}`}>Back to the record</Link>}
      />
      {history.isError ? <Banner tone="bad">{describeError(history.error)}</Banner> : null}
      {current.isError ? <Banner tone="bad">{describeError(current.error)}</Banner> : null}
      {missing > 0 ? (
        <Banner tone="bad">
          Tamper warning: the server left out {missing} of the {last} versions of this record’s
          history.
        </Banner>
      ) : null}
      {history.data ? (
        <table className={uiStyles.table}>
          <caption className="visually-hidden">Versions</caption>
          <thead>
            <tr>
              <th scope="col">Version</th>
              <th scope="col">Written by</th>
              <th scope="col">When</th>
              <th scope="col">
                <span className="visually-hidden">Open</span>
              </th>
            </tr>
          </thead>
          <tbody>
            {history.data.versions.map((v) => (
              <tr key={v.version}>
                <td>{v.version}</td>
                <td>
                  <Signed opened={openedBy.get(v.version)}>
                    {({ author }) =>
                      author.id === deps.me.id
                        ? 'you'
                        : deps.accountState.nameOf(author.id, author.name)
                    }
                  </Signed>
                </td>
                <td>
                  <Signed opened={openedBy.get(v.version)}>
                    {({ signedAt }) => formatDateTime(signedAt)}
                  </Signed>
                </td>
                <td>
                  {/* A version is encrypted to the readers named when it was written; someone given access later reads only the current one (spliced in), on the record page. */}
                  {openedBy.get(v.version)?.data?.status === 'not-for-me' ? (
                    <span className={uiStyles.hint}>
                      Not encrypted to you (written before it was shared with you)
                    </span>
                  ) : (
                    <Button variant="link" onClick={() => setSelected(v.version)}>
                      Open version {v.version}
                    </Button>
                  )}
                </td>
              </tr>
            ))}
          </tbody>
        </table>
      ) : (
        <p aria-busy="true">Loading…</p>
      )}
      {selected !== null ? (
        <Card>
          <h2>Version {selected}</h2>
          {!version || version.isPending ? <p aria-busy="true">Opening…</p> : null}
          {version?.isError ? <Banner tone="bad">{describeError(version.error)}</Banner> : null}
          {version?.data && version.data.status !== 'verified' ? (
            <VerificationBanner verification={{ status: 'failed', failure: version.data }} />
          ) : null}
          {version?.data?.status === 'verified' ? (
            <>
              <VerificationBanner
                verification={{
                  status: 'verified',
                  authorName: deps.accountState.nameOf(
                    version.data.author.id,
                    version.data.author.name,
                  ),
                  authorFingerprint: version.data.author.fingerprint,
                  authorIsMe: version.data.author.id === deps.me.id,
                  authorVerified: deps.accountState.isVerified(
                    version.data.author.id,
                    version.data.author.fingerprint,
                  ),
                }}
              />
              <RecordContentView content={version.data.content} />
            </>
          ) : null}
        </Card>
      ) : null}
    </>
  );
}

/**
 * What a version's signature says (its author, its time); "not verified" where it could not be
 * checked. The server's own fields are never shown (DESIGN §12).
 */
function Signed({
  opened,
  children,
}: {
  opened: UseQueryResult<OpenedVersion> | undefined;
  children: (version: Extract<OpenedVersion, { status: 'verified' }>) => ReactNode;
}) {
  if (!opened || opened.isPending) return <span aria-busy="true">…</span>;
  if (opened.data?.status === 'not-for-me')
    return <span className={uiStyles.hint}>not verified (not readable by you)</span>;
  if (opened.data?.status !== 'verified')
    return <span className={uiStyles.hint}>not verified</span>;
  return <>{children(opened.data)}</>;
}
