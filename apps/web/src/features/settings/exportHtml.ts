import { KIND_LABELS, type RecordContent } from '../records/content';
import type { RecordLayout } from './exportLayout';

/**
 * The human-readable copy in the export: one static page, no script, no remote resource.
 * Every text in it comes from records that other people wrote (attacker-controllable), so each
 * is escaped, and a CSP meta forbids scripts, frames, forms and loads even if escaping failed.
 */
const CSP =
  "default-src 'none'; style-src 'unsafe-inline'; img-src 'none'; base-uri 'none'; form-action 'none'";

const ESCAPES: Record<string, string> = {
  '&': '&amp;',
  '<': '&lt;',
  '>': '&gt;',
  '"': '&quot;',
  "'": '&#39;',
};

export function escapeHtml(text: string): string {
  return text.replace(/[&<>"']/g, (c) => ESCAPES[c] ?? c);
}

/** A link to a file in the archive, relative to readable/records.html. */
function href(...segments: string[]): string {
  return escapeHtml(['..', ...segments.map(encodeURIComponent)].join('/'));
}

function row(term: string, value: string): string {
  return `<dt>${escapeHtml(term)}</dt><dd>${escapeHtml(value)}</dd>`;
}

function contentHtml(content: RecordContent): string {
  const rows = [row('Kind', KIND_LABELS[content.kind]), row('Date', content.date)];
  if (content.kind === 'prescription')
    rows.push(
      row('Drug', content.drug),
      row('Dose', content.dose),
      row('Schedule', content.schedule),
    );
  if (content.kind === 'letter' && content.recipientName)
    rows.push(row('Addressed to', content.recipientName));
  const values =
    content.kind === 'lab' && content.values.length > 0
      ? `<table><thead><tr><th scope="col">Test</th><th scope="col">Value</th><th scope="col">Unit</th><th scope="col">Reference range</th></tr></thead><tbody>${content.values
          .map(
            (v) =>
              `<tr><td>${escapeHtml(v.name)}</td><td>${escapeHtml(v.value)}</td><td>${escapeHtml(v.unit)}</td><td>${escapeHtml(v.range ?? '')}</td></tr>`,
          )
          .join('')}</tbody></table>`
      : '';
  const body = content.body ? `<p class="body">${escapeHtml(content.body)}</p>` : '';
  const files =
    content.attachments.length > 0
      ? `<p>Files: ${content.attachments.map((a) => escapeHtml(a.name)).join(', ')}</p>`
      : '';
  return `<dl>${rows.join('')}</dl>${values}${body}${files}`;
}

function recordHtml(l: RecordLayout, index: number): string {
  const versions = [...l.record.versions].reverse();
  const latest = versions[0];
  const title = latest ? latest.content.title : l.record.id;
  const sections = versions
    .map((v) => {
      const file = l.versionFiles[l.record.versions.indexOf(v)] ?? '';
      return `<section><h3>Version ${v.version}</h3><p class="signed">Signed by ${escapeHtml(v.author.name)}, key ${escapeHtml(v.author.fingerprint.toUpperCase())}. OpenPGP file: <a href="${href('records', l.folder, file)}">${escapeHtml(`records/${l.folder}/${file}`)}</a></p>${contentHtml(v.content)}</section>`;
    })
    .join('');
  const files = l.record.files.length
    ? `<h3>Files (encrypted)</h3><ul>${l.record.files.map((f, i) => `<li><a href="${href('records', l.folder, l.fileNames[i] ?? '')}">${escapeHtml(f.ref.name)}</a> (${f.ref.size} bytes; decrypt as the README says)</li>`).join('')}</ul>`
    : '';
  return `<article id="r${index}"><h2>${escapeHtml(title)}</h2>${sections}${files}</article>`;
}

export function exportHtml(input: {
  user: { name: string; email: string };
  exportedAt: Date;
  layout: RecordLayout[];
}): string {
  const toc = input.layout
    .map((l, i) => `<li><a href="#r${i}">${escapeHtml(l.folder)}</a></li>`)
    .join('');
  return `<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta http-equiv="Content-Security-Policy" content="${CSP}">
<meta name="referrer" content="no-referrer">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>Medseal records of ${escapeHtml(input.user.name)}</title>
<style>body{font:16px/1.5 system-ui,sans-serif;max-width:50rem;margin:2rem auto;padding:0 1rem}article{border-top:2px solid #888;margin-top:2rem}section{border-left:3px solid #ccc;padding-left:1rem;margin:1rem 0}dt{font-weight:600}dd{margin:0 0 .5rem}.body{white-space:pre-wrap}.signed{color:#555;font-size:.9em;overflow-wrap:anywhere}table{border-collapse:collapse}td,th{border:1px solid #ccc;padding:.25rem .5rem}</style>
</head>
<body>
<h1>Medseal records of ${escapeHtml(input.user.name)} &lt;${escapeHtml(input.user.email)}&gt;</h1>
<p>Exported ${escapeHtml(input.exportedAt.toISOString())}. Each version below was decrypted and its signature verified by Medseal before this copy was made; the OpenPGP files next to it let you check again with gpg, sq, rnp or sqop (see README.txt).</p>
<nav aria-label="Records"><ul>${toc}</ul></nav>
${input.layout.map(recordHtml).join('\n')}
</body>
</html>
`;
}
