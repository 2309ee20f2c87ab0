import { useState } from 'react';
import { useNavigate, useParams, useSearchParams } from 'react-router';
import { useMutation, useQueryClient } from '@tanstack/react-query';
import { describeError } from '../../api/errors';
import { PageHead } from '../../app/PageHead';
import { useServices } from '../../app/services';
import { useWorkspace } from '../../app/workspace';
import { Banner, Card, Progress } from '../../ui';
import { useNames } from './useNames';
import { RecordForm, type RecordFormSubmit } from './RecordForm';
import { createRecord, updateRecord } from './recordService';
import { useOpenedRecord } from './useRecord';

type Stage = { stage: string; fraction: number | null } | null;

/** New record: mine (patient) or, for a doctor, one written for a patient (`?owner=`). */
export function NewRecordPage() {
  const { deps } = useWorkspace();
  const { today } = useServices();
  const [params] = useSearchParams();
  const ownerId = params.get('owner') ?? deps.me.id;
  const names = useNames([ownerId]);
  const navigate = useNavigate();
  const queryClient = useQueryClient();
  const [progress, setProgress] = useState<Stage>(null);
  const create = useMutation({
    mutationFn: (s: RecordFormSubmit) => createRecord(deps, { ownerId, content: s.content, files: s.newFiles }, (stage, fraction) => setProgress({ stage, fraction })),
    onSuccess: (dto) => {
      void queryClient.invalidateQueries({ queryKey: ['records'] });
      void navigate(`/records/${dto.id}`);
    },
  });
  return (
    <>
      <PageHead title={ownerId === deps.me.id ? 'New record' : `New record for ${names.get(ownerId) ?? 'patient'}`} />
      {ownerId !== deps.me.id ? <Banner tone="info">This record is encrypted to the patient and to you, and signed by you. The patient sees that you wrote it.</Banner> : null}
      {create.isError ? <Banner tone="bad">{describeError(create.error)}</Banner> : null}
      <Card>
        {create.isPending && progress ? <Progress label={progress.stage} value={progress.fraction} /> : null}
        <RecordForm today={today()} submitLabel="Encrypt and save" busy={create.isPending} onSubmit={(s) => create.mutate(s)} />
      </Card>
    </>
  );
}

export function EditRecordPage() {
  const { recordId = '' } = useParams();
  const { deps } = useWorkspace();
  const { today } = useServices();
  const opened = useOpenedRecord(recordId);
  const navigate = useNavigate();
  const queryClient = useQueryClient();
  const [progress, setProgress] = useState<Stage>(null);
  const save = useMutation({
    mutationFn: async (s: RecordFormSubmit) => {
      if (opened.data?.status !== 'verified') throw new Error('Only a verified record can be edited.');
      return updateRecord(deps, opened.data.dto, { content: s.content, files: s.newFiles }, (stage, fraction) => setProgress({ stage, fraction }));
    },
    onSuccess: () => {
      void queryClient.invalidateQueries({ queryKey: ['records'] });
      void queryClient.invalidateQueries({ queryKey: ['record', recordId] });
      void navigate(`/records/${recordId}`);
    },
  });
  if (opened.isPending) return <p aria-busy="true">Opening the record…</p>;
  if (opened.isError) return <Banner tone="bad">{describeError(opened.error)}</Banner>;
  if (opened.data.status !== 'verified') return <Banner tone="bad">This record failed verification and cannot be edited.</Banner>;
  return (
    <>
      <PageHead title={`Edit: ${opened.data.content.title}`} />
      <Banner tone="info">Saving writes version {opened.data.dto.version + 1}. Earlier versions stay in the history.</Banner>
      {save.isError ? <Banner tone="bad">{describeError(save.error)}</Banner> : null}
      <Card>
        {save.isPending && progress ? <Progress label={progress.stage} value={progress.fraction} /> : null}
        <RecordForm initial={opened.data.content} today={today()} submitLabel="Encrypt and save new version" busy={save.isPending} onSubmit={(s) => save.mutate(s)} />
      </Card>
    </>
  );
}
