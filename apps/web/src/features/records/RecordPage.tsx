import { useEffect, useRef, useState } from 'react';
import { Link, useNavigate, useParams } from 'react-router';
import { useMutation, useQuery, useQueryClient } from '@tanstack/react-query';
import { endpoints } from '@medseal/contract';
import { describeError } from '../../api/errors';
import { formatDay } from '../../app/dates';
import { PageHead } from '../../app/PageHead';
import { useWorkspace } from '../../app/workspace';
import { Badge, Banner, Button, Card, Dialog, Progress, uiStyles } from '../../ui';
import { SharePanel } from '../sharing/SharePanel';
import type { AttachmentRef } from './content';
import type { KeyHandle } from '../../crypto/client';
import { AuthorKeyCheck } from './AuthorKeyCheck';
import { RecordContentView } from './RecordContentView';
import type { OpenedRecord, VerifiedRecord } from './opened';
import { deleteRecord, downloadAttachment, revokeAccess } from './recordService';
import { confirmedLabel, useConfirmedNames } from './useNames';
import { useOpenedRecord } from './useRecord';
import { useRecordActions } from './useRecordActions';
import { VerificationBanner } from './VerificationBanner';
import { consentForRecord } from '../consents/consents';
import { ColleagueConsent } from '../consents/ColleagueConsent';
import { ConsentNote } from '../consents/WrittenWithoutConsent';
import { TeamMembers } from '../sharing/TeamShare';
import { fingerprintGroups } from '../sharing/Fingerprint';

export function RecordPage() {
  const { recordId = '' } = useParams();
  const { deps, live } = useWorkspace();
  const opened = useOpenedRecord(recordId);
  const [sharing, setSharing] = useState(false);
  const queryClient = useQueryClient();
  const { seen } = live;
  useEffect(() => seen(recordId), [seen, recordId]);
  const actions = useRecordActions(opened.data?.status === 'verified' ? opened.data : null);
  // Named, and "already reads it", only where the key book confirmed the reader (useConfirmedNames).
  const readerNames = useConfirmedNames(
    opened.data?.status === 'verified' ? opened.data.readers : [],
  );

  if (opened.isPending) return <p aria-busy="true">Opening the record…</p>;
  if (opened.isError) return <Banner tone="bad">{describeError(opened.error)}</Banner>;
  const record = opened.data;
  const dto = record.dto;
  const isOwner = dto.ownerId === deps.me.id;
  const authorName =
    record.status === 'verified'
      ? deps.accountState.nameOf(record.author.id, record.author.name)
      : '';
  const refresh = () => {
    void queryClient.invalidateQueries({ queryKey: ['record', recordId] });
    void queryClient.invalidateQueries({ queryKey: ['records'] });
    void queryClient.invalidateQueries({ queryKey: ['access', recordId] });
  };

  return (
    <>
      <PageHead
        title={record.status === 'verified' ? record.content.title : 'Record'}
        actions={
          <>
            <Link to="/records">Back to records</Link>
            <Link to={`/records/${recordId}/history`}>History (version {dto.version})</Link>
          </>
        }
      />
      {record.status === 'verified' ? (
        <>
          <VerificationBanner
            verification={{
              status: 'verified',
              authorName,
              authorFingerprint: record.author.fingerprint,
              authorIsMe: record.author.id === deps.me.id,
              authorVerified: record.authorVerified,
            }}
          />
          {isOwner && record.author.id !== deps.me.id ? (
            <ConsentNote
              authorName={authorName}
              consent={consentForRecord(
                deps.accountState.consents,
                record.author,
                record.signedAt,
                record.teams.map((t) => t.team.state),
              )}
            />
          ) : null}
          {!isOwner &&
          deps.me.role === 'doctor' &&
          record.author.id !== deps.me.id &&
          record.author.id !== dto.ownerId ? (
            <ColleagueConsent record={record} authorName={authorName} />
          ) : null}
          <AuthorRole record={record} />
          {record.rekeyedBy ? (
            <p data-testid="rekeyed-by">
              Re-encrypted by{' '}
              {deps.accountState.nameOf(record.rekeyedBy.person.id, record.rekeyedBy.person.name)}{' '}
              on {formatDay(record.rekeyedBy.at)} after a change in a care team. What it says is{' '}
              {authorName}’s, unchanged.
            </p>
          ) : null}
          {record.author.id !== deps.me.id && !record.authorVerified ? (
            <AuthorKeyCheck author={record.author} />
          ) : null}
        </>
      ) : (
        <VerificationBanner verification={{ status: 'failed', failure: record }} />
      )}
      {record.status === 'verified' ? (
        <Card>
          <RecordContentView
            content={record.content}
            showTitle={false}
            renderAttachment={(a) => (
              <AttachmentDownload
                recordId={recordId}
                attachment={a}
                keyHandle={record.readingKey}
              />
            )}
          />
          {actions.checking ? (
            <p aria-busy="true">Checking what you may do with this record…</p>
          ) : null}
          {actions.edit || actions.share ? (
            <div className={uiStyles.row}>
              {actions.edit ? (
                <Link
                  className={`${uiStyles.button} ${uiStyles.secondary}`}
                  to={`/records/${recordId}/edit`}
                >
                  Edit
                </Link>
              ) : null}
              {actions.share ? <Button onClick={() => setSharing(true)}>Share…</Button> : null}
            </div>
          ) : null}
          <div className={`${uiStyles.row} no-print`}>
            <Button variant="secondary" onClick={() => window.print()}>
              Print or save as PDF
            </Button>
          </div>
        </Card>
      ) : null}
      {record.status === 'verified' ? (
        <SharePanel
          open={sharing}
          target={{
            recordIds: [recordId],
            readers: record.readers
              .filter((r) => typeof readerNames.get(r.userId) === 'string')
              .map((r) => r.userId),
          }}
          onShared={() => {
            setSharing(false);
            refresh();
          }}
          onClose={() => setSharing(false)}
        />
      ) : null}
      <div className="no-print">
        <AccessList
          record={record}
          names={readerNames}
          canRevoke={actions.share}
          onChanged={refresh}
        />
        {record.status === 'verified' && record.teams.length > 0 ? (
          <ReaderTeams record={record} />
        ) : null}
        {actions.delete ? <DeleteRecord recordId={recordId} /> : null}
      </div>
    </>
  );
}

/**
 * The author's role (DESIGN §13): attested when a care team that reads this record lists her,
 * with exactly this key, signed by one of its admins; otherwise it is only what she declared.
 */
function AuthorRole({ record }: { record: VerifiedRecord }) {
  const { deps } = useWorkspace();
  const a = record.attestation;
  // The admin who signed her in, by the key the team lists for him (a former admin: no key left).
  const signer = a
    ? record.teams
        .find((t) => t.team.state.teamId === a.teamId)
        ?.team.state.members.find((m) => m.userId === a.signedBy)
    : undefined;
  const names = useConfirmedNames(signer ? [signer] : []);
  if (record.author.id === deps.me.id) return null;
  const authorName = deps.accountState.nameOf(record.author.id, record.author.name);
  if (a) {
    return (
      <p data-testid="author-role">
        {authorName}, {a.role} in {a.teamName} ({a.practiceName}), signed by{' '}
        {signer ? confirmedLabel(names, signer) : 'a former admin'}.
      </p>
    );
  }
  if (record.author.role !== 'doctor') return null;
  return (
    <p data-testid="author-role">
      {authorName}: self-declared doctor. No care team that reads this record attests this role.
    </p>
  );
}

/** The care teams that read this record and their current members, as each team's signed history says. */
function ReaderTeams({ record }: { record: VerifiedRecord }) {
  return (
    <Card labelledBy="reader-teams">
      <h2 id="reader-teams">Care teams who can read this record</h2>
      {record.teams.map(({ team }) => (
        <div key={team.state.teamId}>
          <h3>
            {team.state.name} ({team.state.practiceName})
          </h3>
          <TeamMembers team={team} />
        </div>
      ))}
      <p>
        Someone who leaves a team stops getting its records at once, but may have kept what they
        already read.
      </p>
    </Card>
  );
}

function AttachmentDownload({
  recordId,
  attachment,
  keyHandle,
}: {
  recordId: string;
  attachment: AttachmentRef;
  keyHandle: KeyHandle;
}) {
  const { deps } = useWorkspace();
  const [progress, setProgress] = useState<{ stage: string; fraction: number | null } | null>(null);
  const download = useMutation({
    mutationFn: () =>
      downloadAttachment(
        deps,
        recordId,
        attachment,
        (stage, fraction) => setProgress({ stage, fraction }),
        keyHandle,
      ),
    onSuccess: (blob) => {
      const url = URL.createObjectURL(blob);
      const a = document.createElement('a');
      a.href = url;
      a.download = attachment.name;
      a.click();
      setTimeout(() => URL.revokeObjectURL(url), 10_000);
    },
  });
  return (
    <>
      <Button variant="secondary" onClick={() => download.mutate()} disabled={download.isPending}>
        Download {attachment.name}
      </Button>
      {download.isPending && progress ? (
        <Progress label={progress.stage} value={progress.fraction} />
      ) : null}
      {download.isSuccess ? <Badge tone="ok">Verified and decrypted</Badge> : null}
      {download.isError ? <Banner tone="bad">{describeError(download.error)}</Banner> : null}
    </>
  );
}

/**
 * The readers of the record (DESIGN §12 "shown = signed"): the verified readers only, each named
 * as everywhere else in the app (useNames: the name I pinned, else the key book's), never by the
 * server's access entry, which could put one reader's name on another's row (and so on the
 * Revoke… that acts on that row's user id); the entry, for the same person and key, gives only
 * how they came to read it. An entry the server lists beyond them is never shown. A record that
 * did not verify shows no readers.
 */
function AccessList({
  record,
  names,
  canRevoke,
  onChanged,
}: {
  record: OpenedRecord;
  /** Its readers' names, where the key book confirmed them (`useConfirmedNames`). */
  names: ReadonlyMap<string, string | null>;
  canRevoke: boolean;
  onChanged(): void;
}) {
  const { deps } = useWorkspace();
  const { dto } = record;
  const verified = record.status === 'verified' ? record : null;
  const access = useQuery({
    queryKey: ['access', dto.id, dto.version],
    enabled: verified !== null,
    queryFn: () => deps.call(endpoints.listAccess, { params: { recordId: dto.id } }),
  });
  const [confirming, setConfirming] = useState<string | null>(null);
  const [progress, setProgress] = useState<{ stage: string; fraction: number | null } | null>(null);
  // After a revoke the button that opened the dialog goes with its reader: focus moves to this
  // card's heading (its effect runs after the dialog's, which returned focus to that button),
  // and a status line says what happened.
  const [revoked, setRevoked] = useState<string | null>(null);
  const heading = useRef<HTMLHeadingElement>(null);
  const revoke = useMutation({
    mutationFn: (reader: { userId: string; name: string }) => {
      if (!verified) throw new Error('Only a verified record can be re-keyed.');
      return revokeAccess(deps, verified, reader.userId, (stage, fraction) =>
        setProgress({ stage, fraction }),
      );
    },
    // The name comes with the call: by now a refresh may have taken them off the list.
    onSuccess: (_dto, reader) => {
      setRevoked(`${reader.name} can no longer open this record.`);
      setConfirming(null);
      onChanged();
    },
  });
  const readers = (verified?.readers ?? []).map((r) => {
    const entry = access.data?.entries.find(
      (e) => e.userId === r.userId && e.fingerprint === r.fingerprint,
    );
    // From what verified (the server's `via` is its word): a reader the author did not seal this
    // version to reads it through a share, whose signed grant the record's check accepted.
    const via =
      r.userId === dto.ownerId
        ? 'owner'
        : r.userId === dto.authorId
          ? 'author'
          : verified?.signedRecipients.includes(r.fingerprint)
            ? 'reader'
            : 'shared';
    return {
      userId: r.userId,
      name:
        r.userId === deps.me.id
          ? 'You'
          : names.get(r.userId) === null
            ? `Unknown reader (key ${fingerprintGroups(r.fingerprint).join(' ')}): not found in the directory`
            : (names.get(r.userId) ?? '…'),
      role: entry?.role,
      via,
    };
  });
  const revoking = readers.find((r) => r.userId === confirming) ?? null;
  useEffect(() => {
    if (revoked) heading.current?.focus();
  }, [revoked]);
  return (
    <Card labelledBy="access-title">
      <h2 id="access-title" ref={heading} tabIndex={-1}>
        Who can read this record
      </h2>
      <p role="status">{revoked ?? ''}</p>
      {!verified ? (
        <Banner tone="warn">
          The readers of this record are not shown: it could not be verified.
        </Banner>
      ) : null}
      {access.isPending && verified ? <p aria-busy="true">Loading…</p> : null}
      {access.isError ? <Banner tone="bad">{describeError(access.error)}</Banner> : null}
      {access.data ? (
        <ul
          className={uiStyles.stack}
          aria-label="Readers"
          style={{ listStyle: 'none', padding: 0 }}
        >
          {readers.map((e) => (
            <li key={e.userId}>
              <strong>{e.name}</strong> {e.role ? <Badge>{e.role}</Badge> : null}{' '}
              <Badge>{e.via}</Badge>{' '}
              {canRevoke && e.userId !== dto.ownerId && e.userId !== deps.me.id ? (
                <Button variant="link" onClick={() => setConfirming(e.userId)}>
                  Revoke…
                </Button>
              ) : null}
            </li>
          ))}
        </ul>
      ) : null}
      <Dialog
        open={revoking !== null}
        title={`Stop sharing with ${revoking?.name ?? ''}?`}
        onClose={() => (revoke.isPending ? undefined : setConfirming(null))}
      >
        <p>
          {revoking?.name} will no longer be able to open this record, and it is re-encrypted with a
          new key for everyone else. If {revoking?.name} already opened it, they may have kept a
          copy — that cannot be taken back.
        </p>
        {revoke.isPending ? (
          <div aria-busy="true">
            <p aria-live="polite">Revoking and re-encrypting…</p>
            {progress ? <Progress label={progress.stage} value={progress.fraction} /> : null}
          </div>
        ) : null}
        {revoke.isError ? <Banner tone="bad">{describeError(revoke.error)}</Banner> : null}
        <div className={uiStyles.row}>
          <Button
            variant="danger"
            disabled={revoke.isPending}
            onClick={() =>
              revoking && revoke.mutate({ userId: revoking.userId, name: revoking.name })
            }
          >
            Revoke access for {revoking?.name}
          </Button>
          <Button
            variant="secondary"
            data-autofocus
            disabled={revoke.isPending}
            onClick={() => setConfirming(null)}
          >
            Cancel
          </Button>
        </div>
      </Dialog>
    </Card>
  );
}

function DeleteRecord({ recordId }: { recordId: string }) {
  const { deps } = useWorkspace();
  const navigate = useNavigate();
  const queryClient = useQueryClient();
  const [confirming, setConfirming] = useState(false);
  const remove = useMutation({
    mutationFn: () => deleteRecord(deps, recordId),
    onSuccess: () => {
      void queryClient.invalidateQueries({ queryKey: ['records'] });
      void navigate('/records');
    },
  });
  return (
    <Card labelledBy="delete-title">
      <h2 id="delete-title">Delete permanently</h2>
      <Button variant="secondary" onClick={() => setConfirming(true)}>
        Delete this record…
      </Button>
      <Dialog
        open={confirming}
        title="Delete this record for good?"
        onClose={() => (remove.isPending ? undefined : setConfirming(false))}
      >
        <p>
          Every version, every attached file and every share of it are removed from the server. This
          cannot be undone. The access log keeps only that it was deleted.
        </p>
        {remove.isError ? <Banner tone="bad">{describeError(remove.error)}</Banner> : null}
        <div className={uiStyles.row}>
          <Button variant="danger" disabled={remove.isPending} onClick={() => remove.mutate()}>
            Yes, delete permanently
          </Button>
          <Button
            variant="secondary"
            data-autofocus
            disabled={remove.isPending}
            onClick={() => setConfirming(false)}
          >
            Cancel
          </Button>
        </div>
      </Dialog>
    </Card>
  );
}
