import { useState, type FormEvent } from 'react';
import { MAX_FILE_SIZE_BYTES } from '@medseal/contract';
import { Banner, Button, SelectField, TextArea, TextField, uiStyles } from '../../ui';
import {
  emptyContent,
  KIND_LABELS,
  RECORD_KINDS,
  recordContentSchema,
  type AttachmentRef,
  type LabValue,
  type RecordContent,
  type RecordKind,
} from './content';
import styles from './records.module.css';

/** DESIGN/issue: attachments are PDF or images up to 20 MiB each. */
const ACCEPTED_TYPES = ['application/pdf', 'image/png', 'image/jpeg', 'image/gif', 'image/webp'];

export interface RecordFormSubmit {
  content: RecordContent;
  /** New files to encrypt and upload; existing ones stay in content.attachments. */
  newFiles: File[];
}

interface Props {
  initial?: RecordContent;
  today: string;
  submitLabel: string;
  busy?: boolean;
  onSubmit(submit: RecordFormSubmit): void;
}

export function checkAttachment(file: File): string | null {
  if (file.size > MAX_FILE_SIZE_BYTES) return `“${file.name}” is larger than 20 MiB.`;
  if (!ACCEPTED_TYPES.includes(file.type)) return `“${file.name}” is not a PDF or an image.`;
  return null;
}

/** Create/edit form for every record kind. Validates with the content schema before submit. */
export function RecordForm({ initial, today, submitLabel, busy = false, onSubmit }: Props) {
  const [content, setContent] = useState<RecordContent>(initial ?? emptyContent('note', today));
  const [newFiles, setNewFiles] = useState<File[]>([]);
  const [error, setError] = useState<string | null>(null);

  const set = (patch: Partial<RecordContent>) =>
    setContent((c) => ({ ...c, ...patch }) as RecordContent);

  const changeKind = (kind: RecordKind) => {
    const fresh = emptyContent(kind, content.date);
    setContent({
      ...fresh,
      title: content.title,
      body: content.body,
      attachments: content.attachments,
    } as RecordContent);
  };

  const addFiles = (files: FileList | null) => {
    if (!files) return;
    const accepted: File[] = [];
    for (const file of Array.from(files)) {
      const problem = checkAttachment(file);
      if (problem) {
        setError(problem);
        return;
      }
      accepted.push(file);
    }
    setError(null);
    setNewFiles((f) => [...f, ...accepted]);
  };

  const submit = (event: FormEvent) => {
    event.preventDefault();
    const cleaned =
      content.kind === 'lab'
        ? { ...content, values: content.values.filter((v) => v.name.trim() || v.value.trim()) }
        : content;
    const parsed = recordContentSchema.safeParse(cleaned);
    if (!parsed.success) {
      const first = parsed.error.issues[0];
      setError(
        first
          ? `Please check “${first.path.join('.') || 'the form'}”: ${first.message}`
          : 'Please check the form.',
      );
      return;
    }
    setError(null);
    onSubmit({ content: parsed.data, newFiles });
  };

  return (
    <form onSubmit={submit} aria-label="Record" noValidate>
      {error ? <Banner tone="bad">{error}</Banner> : null}
      <div className={styles.formGrid}>
        <SelectField
          label="Kind"
          value={content.kind}
          disabled={!!initial}
          onChange={(e) => changeKind(e.target.value as RecordKind)}
        >
          {RECORD_KINDS.map((k) => (
            <option key={k} value={k}>
              {KIND_LABELS[k]}
            </option>
          ))}
        </SelectField>
        <TextField
          label="Date"
          type="date"
          required
          value={content.date}
          onChange={(e) => set({ date: e.target.value })}
        />
      </div>
      <TextField
        label="Title"
        required
        maxLength={200}
        value={content.title}
        onChange={(e) => set({ title: e.target.value })}
      />
      {content.kind === 'lab' ? (
        <LabValues
          values={content.values}
          onChange={(values) => set({ values } as Partial<RecordContent>)}
        />
      ) : null}
      {content.kind === 'prescription' ? (
        <div className={styles.formGrid}>
          <TextField
            label="Drug"
            required
            value={content.drug}
            onChange={(e) => set({ drug: e.target.value } as Partial<RecordContent>)}
          />
          <TextField
            label="Dose"
            required
            value={content.dose}
            onChange={(e) => set({ dose: e.target.value } as Partial<RecordContent>)}
          />
          <TextField
            label="Schedule"
            required
            hint="For example: twice a day after meals"
            value={content.schedule}
            onChange={(e) => set({ schedule: e.target.value } as Partial<RecordContent>)}
          />
        </div>
      ) : null}
      {content.kind === 'letter' ? (
        <TextField
          label="Addressed to"
          value={content.recipientName}
          onChange={(e) => set({ recipientName: e.target.value } as Partial<RecordContent>)}
        />
      ) : null}
      <TextArea
        label={content.kind === 'letter' ? 'Letter' : 'Notes'}
        value={content.body}
        onChange={(e) => set({ body: e.target.value })}
      />
      <fieldset className={uiStyles.field}>
        <legend>Attachments</legend>
        <ul className={styles.fileList} aria-label="Attachments">
          {content.attachments.map((a: AttachmentRef) => (
            <li key={a.id}>
              <span>{a.name}</span>
              <Button
                variant="link"
                onClick={() =>
                  set({ attachments: content.attachments.filter((x) => x.id !== a.id) })
                }
              >
                Remove {a.name}
              </Button>
            </li>
          ))}
          {newFiles.map((f, i) => (
            <li key={`${f.name}-${i}`}>
              <span>{f.name} (new)</span>
              <Button
                variant="link"
                onClick={() => setNewFiles((files) => files.filter((x) => x !== f))}
              >
                Remove {f.name}
              </Button>
            </li>
          ))}
        </ul>
        <label htmlFor="attachment-input" className={uiStyles.hint}>
          Add PDF or image files (up to 20 MiB each). They are encrypted in your browser before
          upload.
        </label>
        <input
          id="attachment-input"
          type="file"
          multiple
          accept={ACCEPTED_TYPES.join(',')}
          onChange={(e) => addFiles(e.target.files)}
        />
      </fieldset>
      <Button type="submit" disabled={busy}>
        {submitLabel}
      </Button>
    </form>
  );
}

function LabValues({
  values,
  onChange,
}: {
  values: LabValue[];
  onChange(values: LabValue[]): void;
}) {
  const update = (i: number, patch: Partial<LabValue>) =>
    onChange(values.map((v, j) => (j === i ? { ...v, ...patch } : v)));
  return (
    <fieldset className={uiStyles.field}>
      <legend>Results</legend>
      {values.map((v, i) => (
        <div className={styles.labRow} key={i}>
          <TextField
            label={`Test ${i + 1}`}
            value={v.name}
            onChange={(e) => update(i, { name: e.target.value })}
          />
          <TextField
            label={`Value ${i + 1}`}
            value={v.value}
            onChange={(e) => update(i, { value: e.target.value })}
          />
          <TextField
            label={`Unit ${i + 1}`}
            value={v.unit}
            onChange={(e) => update(i, { unit: e.target.value })}
          />
          <TextField
            label={`Reference range ${i + 1}`}
            value={v.range ?? ''}
            onChange={(e) => update(i, { range: e.target.value })}
          />
          <Button
            variant="link"
            onClick={() => onChange(values.filter((_, j) => j !== i))}
            aria-label={`Remove result ${i + 1}`}
          >
            Remove
          </Button>
        </div>
      ))}
      <Button
        variant="secondary"
        onClick={() => onChange([...values, { name: '', value: '', unit: '' }])}
      >
        Add a result
      </Button>
    </fieldset>
  );
}
