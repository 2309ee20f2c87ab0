import { useState } from 'react';
import { useNavigate, useParams, useSearchParams } from 'react-router';
import { useMutation, useQuery, useQueryClient } from '@tanstack/react-query';
import { describeError } from '../../api/errors';
import { PageHead } from '../../app/PageHead';
import { useServices } from '../../app/services';
import { useWorkspace } from '../../app/workspace';
import { Banner, Card, Progress } from '../../ui';
import { useKeyRefusals, useNames } from './useNames';
import { verifiedCarersOf } from '../consents/consents';
import { RecordForm, type RecordFormSubmit } from './RecordForm';
import {
  createRecord,
  newRecordDraft,
  openRecordsOf,
  readersChosenBy,
  teamsIReadThrough,
  updateRecord,
} from './recordService';
import styles from './records.module.css';
import { useOpenedRecord } from './useRecord';
import { useRecordActions } from './useRecordActions';

type Stage = { stage: string; fraction: number | null } | null;

/** New record: mine (patient) or, for a doctor, one written for a patient (`?owner=`). */
export function NewRecordPage() {
  const { deps } = useWorkspace();
  const { today } = useServices();
  const [params] = useSearchParams();
  const ownerId = params.get('owner') ?? deps.me.id;
  const forPatient = ownerId !== deps.me.id;
  // Only a doctor writing for a patient needs the patient's records: the readers the patient
  // chose, and the patient's key, come from the ones that verify (DESIGN §12).
  const opened = useQuery({
    queryKey: ['patient-readers', ownerId, deps.stamp],
    enabled: forPatient,
    queryFn: () => openRecordsOf(deps, ownerId),
    gcTime: 0,
  });
  const patientKey = readersChosenBy(ownerId, deps.me.id, opened.data ?? []).patient;
  // A doctor who reads the patient only through her care team writes for the team (DESIGN §13).
  const forTeams = teamsIReadThrough(ownerId, deps, opened.data ?? []);
  // Her consents, each verified with her key (the one her verified records name): whether she
  // lets me (or a team I write through) write for her, and her other carers, who are her
  // choice of default readers (§13).
  const consents = useQuery({
    queryKey: [
      'patient-consents',
      ownerId,
      patientKey?.fingerprint,
      forTeams.map((t) => `${t.state.teamId}:${t.state.seq}`).join(),
      deps.stamp,
    ],
    enabled: forPatient && !!patientKey,
    queryFn: async () => {
      const person = await deps.keyBook.get(ownerId);
      if (person.fingerprint !== patientKey?.fingerprint)
        throw new Error(
          'The directory gave another key for this patient than her verified records name: refused.',
        );
      return verifiedCarersOf(
        deps,
        person,
        forTeams.map((t) => t.state),
      );
    },
    gcTime: 0,
  });
  const { patient, chosen } = readersChosenBy(
    ownerId,
    deps.me.id,
    opened.data ?? [],
    consents.data?.carers,
  );
  const noConsent = consents.data?.mine === false;
  const untrusted = (opened.data ?? []).filter((r) => r.status !== 'verified').length;
  const names = useNames([ownerId, ...chosen.map((r) => r.userId)]);
  const refused = useKeyRefusals([ownerId, ...chosen.map((r) => r.userId)]);
  // Everyone the patient chose is a reader unless the doctor unticks them.
  const [leftOut, setLeftOut] = useState<ReadonlySet<string>>(new Set());
  const navigate = useNavigate();
  const queryClient = useQueryClient();
  const [progress, setProgress] = useState<Stage>(null);
  // Saving again after a failure finishes the same record (see NewRecordDraft).
  const [draft] = useState(newRecordDraft);
  const create = useMutation({
    mutationFn: (s: RecordFormSubmit) => {
      const owner = forPatient
        ? patient
        : { userId: deps.me.id, fingerprint: deps.key.fingerprint };
      if (!owner)
        throw new Error(
          'None of this patient’s records that you can read verified, so their key could not be verified: refused.',
        );
      const alsoReaders = chosen.filter((r) => !leftOut.has(r.userId));
      return createRecord(
        deps,
        { draft, owner, alsoReaders, forTeams, content: s.content, files: s.newFiles },
        (stage, fraction) => setProgress({ stage, fraction }),
      );
    },
    onSuccess: (dto) => {
      void queryClient.invalidateQueries({ queryKey: ['records'] });
      void queryClient.invalidateQueries({ queryKey: ['team-records'] });
      void navigate(`/records/${dto.id}`);
    },
  });
  return (
    <>
      <PageHead
        title={forPatient ? `New record for ${names.get(ownerId) ?? 'patient'}` : 'New record'}
      />
      {forPatient && forTeams.length === 0 ? (
        <Banner tone="info">
          This record is encrypted to the patient, to you and to the people ticked below, and signed
          by you. The patient sees that you wrote it.
        </Banner>
      ) : null}
      {forTeams.length > 0 ? (
        <Banner tone="info">
          This record is encrypted to the patient, to the people ticked below and to your team
          {forTeams.length > 1 ? 's' : ''} {forTeams.map((t) => t.state.name).join(', ')}, and
          signed by you. Its current members read it; the patient sees that you wrote it as a
          member.
        </Banner>
      ) : null}
      {create.isError ? <Banner tone="bad">{describeError(create.error)}</Banner> : null}
      {forPatient && (opened.isPending || (!!patientKey && consents.isPending)) ? (
        <p aria-busy="true">Checking the patient’s records…</p>
      ) : null}
      {opened.isError ? <Banner tone="bad">{describeError(opened.error)}</Banner> : null}
      {consents.isError ? <Banner tone="bad">{describeError(consents.error)}</Banner> : null}
      {noConsent ? (
        <Banner tone="warn">
          {names.get(ownerId) ?? 'This patient'} has not let you write records for them (no consent
          signed by them names your key). They can allow it when they share a record with you, or on
          their Contacts page.
        </Banner>
      ) : null}
      {refused.map((e) => (
        <Banner key={e.message} tone="bad">
          {e.message}
        </Banner>
      ))}
      {untrusted > 0 ? (
        <Banner tone="warn">
          {untrusted === 1
            ? 'One of this patient’s records'
            : `${untrusted} of this patient’s records`}{' '}
          failed verification (it may have been tampered with): nobody is offered as a reader from{' '}
          {untrusted === 1 ? 'it' : 'them'}.
        </Banner>
      ) : null}
      {chosen.length > 0 ? (
        <Card>
          <fieldset className={styles.readers}>
            <legend>
              Also readable by — people {names.get(ownerId) ?? 'the patient'} shares records with
            </legend>
            {chosen.map(({ userId: id }) => (
              <label key={id}>
                <input
                  type="checkbox"
                  checked={!leftOut.has(id)}
                  onChange={(e) =>
                    setLeftOut((prev) =>
                      e.target.checked
                        ? new Set([...prev].filter((x) => x !== id))
                        : new Set([...prev, id]),
                    )
                  }
                />{' '}
                {names.get(id) ?? '…'}
              </label>
            ))}
          </fieldset>
        </Card>
      ) : null}
      <Card>
        {create.isPending && progress ? (
          <Progress label={progress.stage} value={progress.fraction} />
        ) : null}
        {/* For a patient, saving waits for their records to be checked: they give the patient's key. */}
        <RecordForm
          today={today()}
          submitLabel="Encrypt and save"
          busy={
            create.isPending ||
            (forPatient && (opened.isPending || (!!patientKey && consents.isPending) || noConsent))
          }
          onSubmit={(s) => create.mutate(s)}
        />
      </Card>
    </>
  );
}

export function EditRecordPage() {
  const { recordId = '' } = useParams();
  const { deps } = useWorkspace();
  const { today } = useServices();
  const opened = useOpenedRecord(recordId);
  const actions = useRecordActions(opened.data?.status === 'verified' ? opened.data : null);
  const navigate = useNavigate();
  const queryClient = useQueryClient();
  const [progress, setProgress] = useState<Stage>(null);
  const save = useMutation({
    mutationFn: async (s: RecordFormSubmit) => {
      if (opened.data?.status !== 'verified')
        throw new Error('Only a verified record can be edited.');
      return updateRecord(
        deps,
        opened.data,
        { content: s.content, files: s.newFiles },
        (stage, fraction) => setProgress({ stage, fraction }),
      );
    },
    onSuccess: () => {
      void queryClient.invalidateQueries({ queryKey: ['records'] });
      void queryClient.invalidateQueries({ queryKey: ['record', recordId] });
      void navigate(`/records/${recordId}`);
    },
  });
  if (opened.isPending) return <p aria-busy="true">Opening the record…</p>;
  if (opened.isError) return <Banner tone="bad">{describeError(opened.error)}</Banner>;
  if (opened.data.status !== 'verified')
    return <Banner tone="bad">This record failed verification and cannot be edited.</Banner>;
  if (actions.checking) return <p aria-busy="true">Checking that you may change this record…</p>;
  if (!actions.edit)
    return (
      <Banner tone="info">
        You can read this record but not change it: only the person it belongs to, or someone they
        let write for them, can.
      </Banner>
    );
  return (
    <>
      <PageHead title={`Edit: ${opened.data.content.title}`} />
      <Banner tone="info">
        Saving writes version {opened.data.dto.version + 1}. Earlier versions stay in the history.
      </Banner>
      {save.isError ? <Banner tone="bad">{describeError(save.error)}</Banner> : null}
      <Card>
        {save.isPending && progress ? (
          <Progress label={progress.stage} value={progress.fraction} />
        ) : null}
        <RecordForm
          initial={opened.data.content}
          today={today()}
          submitLabel="Encrypt and save new version"
          busy={save.isPending}
          onSubmit={(s) => save.mutate(s)}
        />
      </Card>
    </>
  );
}
