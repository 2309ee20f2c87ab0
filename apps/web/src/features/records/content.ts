import { z } from 'zod';

/**
 * What the app puts in a record envelope's `content` (DESIGN §5: everything clinical lives
 * inside the encrypted, signed message). Versioned (`v`): a reader refuses an unknown version
 * instead of guessing (STYLE.md §12).
 */
export const RECORD_KINDS = ['note', 'lab', 'prescription', 'letter'] as const;
export type RecordKind = (typeof RECORD_KINDS)[number];

export const KIND_LABELS: Record<RecordKind, string> = {
  note: 'Note',
  lab: 'Lab result',
  prescription: 'Prescription',
  letter: 'Letter',
};

const text = (max: number) => z.string().max(max);

/**
 * A file of the record. `id` is the server's attachment id, `sha256` binds the decrypted bytes
 * to this (signed) record, `by` is who encrypted and signed the file, `keyCommitment` binds the
 * file's session key to its id (DESIGN §12 "Attachments"; absent on files sealed before it).
 */
export const attachmentRefSchema = z.object({
  id: z.string().min(1).max(64),
  name: text(255).min(1),
  type: text(127),
  size: z.number().int().nonnegative(),
  sha256: z.string().min(1).max(64),
  by: z.string().min(1).max(64),
  keyCommitment: z.string().min(1).max(64).optional(),
});
export type AttachmentRef = z.infer<typeof attachmentRefSchema>;

export const labValueSchema = z.object({
  name: text(200).min(1),
  value: text(50).min(1),
  unit: text(30),
  range: text(60).optional(),
});
export type LabValue = z.infer<typeof labValueSchema>;

const common = {
  v: z.literal(1),
  title: text(200).min(1),
  /** Clinical date (YYYY-MM-DD), which may differ from when the record was written. */
  date: z.string().regex(/^\d{4}-\d{2}-\d{2}$/),
  body: text(100_000),
  attachments: z.array(attachmentRefSchema).max(20),
};

export const recordContentSchema = z.discriminatedUnion('kind', [
  z.object({ kind: z.literal('note'), ...common }),
  z.object({ kind: z.literal('lab'), ...common, values: z.array(labValueSchema).max(200) }),
  z.object({
    kind: z.literal('prescription'),
    ...common,
    drug: text(200).min(1),
    dose: text(200).min(1),
    schedule: text(200).min(1),
  }),
  z.object({ kind: z.literal('letter'), ...common, recipientName: text(200) }),
]);
export type RecordContent = z.infer<typeof recordContentSchema>;

/** The part of the content the list needs (decrypted first, cached per tab). */
export interface RecordSummary {
  title: string;
  kind: RecordKind;
  date: string;
}

export function summaryOf(content: RecordContent): RecordSummary {
  return { title: content.title, kind: content.kind, date: content.date };
}

export function emptyContent(kind: RecordKind, today: string): RecordContent {
  const base = { v: 1 as const, title: '', date: today, body: '', attachments: [] };
  switch (kind) {
    case 'note':
      return { kind, ...base };
    case 'lab':
      return { kind, ...base, values: [{ name: '', value: '', unit: '' }] };
    case 'prescription':
      return { kind, ...base, drug: '', dose: '', schedule: '' };
    case 'letter':
      return { kind, ...base, recipientName: '' };
  }
}
