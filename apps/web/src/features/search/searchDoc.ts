import { dayAsWords } from '../../app/dates';
import { KIND_LABELS, type RecordContent } from '../records/content';
import type { SearchDoc } from './searchIndex';

/** What the search index holds of one verified record (never built from unverified data). */
export function searchDocOf(id: string, content: RecordContent): SearchDoc {
  const body = [content.body];
  if (content.kind === 'lab')
    for (const v of content.values) body.push(v.name, v.value, v.unit, v.range ?? '');
  if (content.kind === 'prescription') body.push(content.drug, content.dose, content.schedule);
  if (content.kind === 'letter') body.push(content.recipientName);
  return {
    id,
    title: content.title,
    body: body.join('\n'),
    kind: `${KIND_LABELS[content.kind]} ${content.kind}`,
    date: dayAsWords(content.date),
  };
}
