import type { BadSignatureReason, ContextField, OpenRecordResult } from '@medseal/crypto';
import { explainTeamProblem, type TeamProblem } from '../teams/teamProblems';

/**
 * Why a record (or one of its versions) did not open: crypto's status union as it came out of
 * the worker, plus content that is signed but not in a format this app reads, plus a care team
 * that reads it whose signed history was not accepted (a removal hidden, a member the server
 * added). Travels to the UI unchanged (STYLE.md §20); `describeFailure` is the one place it
 * becomes words.
 */
export type RecordFailure =
  | Exclude<OpenRecordResult, { status: 'verified' | 'rekeyed' }>
  | { status: 'unknown-content' }
  | { status: 'team-unverified'; problem: TeamProblem };

/** Why a file did not open (`openFile`): the same statuses, `sha256` among the mismatches. */
export type FileFailure =
  | Exclude<RecordFailure, { status: 'context-mismatch' | 'unknown-content' | 'team-unverified' }>
  | { status: 'context-mismatch'; mismatches: ['sha256'] };

const AUTHOR_KEY: Record<
  Extract<RecordFailure, { status: 'unknown-author-key' }>['reason'],
  string
> = {
  'signed-by-another-key': 'It is not signed by the key of the person named as its author.',
  'author-key-mismatch':
    'It is signed with another key than the one you have for its author (the one you checked or first saw).',
  'unreadable-author-key': 'The key the server gave for its author cannot be used.',
};

const SIGNATURE: Record<BadSignatureReason, string> = {
  unsigned: 'It carries no signature.',
  'invalid-signature':
    'Its signature does not match its content: it was changed after it was signed.',
  'unexpected-signatures': 'It carries more signatures than its author’s.',
  'modified-ciphertext': 'Its encrypted content was changed on the way or on the server.',
  'decryption-failed': 'It could not be decrypted: it is damaged or not what it claims to be.',
  malformed: 'It is not a message this app can read.',
  'too-large': 'It is larger than any record this app opens.',
  'no-integrity': 'It is encrypted without integrity protection, which this app refuses.',
  'unencrypted-data': 'Part of it is not encrypted, which this app refuses.',
  'author-key-not-valid': 'Its author’s key was expired or revoked when it was signed.',
};

const MISMATCH: Record<ContextField | 'sha256', string> = {
  recordId: 'It is another record’s content than the one asked for.',
  version: 'It is another version than the one the server says it is.',
  'version-rollback':
    'The server sent an older version than one you have already seen, on this or another of your devices.',
  ownerId: 'It names another owner than the server does.',
  authorId: 'It names another author than the server does.',
  part: 'It is a record’s summary served as the record, or the other way round.',
  recipients:
    'Its readers are not the ones it was signed for (plus people it was shared with): the server may have added or removed a reader.',
  packets:
    'It is still encrypted to someone who is not among its readers, or not to one of them: the server may be hiding a reader.',
  envelope: 'Its signed content is not in a format this app knows.',
  rekey:
    'It claims to be re-encrypted after a care team change, but it is not signed by a current admin of that team, or not for the version before it.',
  'rekey-base':
    'It claims to be re-encrypted after a care team change, but the version before it is not the one it names.',
  sha256: 'The file is not the one its record names (another checksum).',
};

/** One plain sentence (or a few, one per mismatch) for each failure. */
export function describeFailure(f: RecordFailure | FileFailure): string {
  switch (f.status) {
    case 'unknown-author-key':
      return AUTHOR_KEY[f.reason];
    case 'bad-signature':
      return SIGNATURE[f.reason];
    case 'context-mismatch':
      return f.mismatches.map((m) => MISMATCH[m]).join(' ');
    case 'not-for-me':
      return 'It is not encrypted to your key.';
    case 'unknown-content':
      return 'Its content is signed but not in a format this app knows.';
    case 'team-unverified':
      return explainTeamProblem(f.problem);
  }
}

/** A short label for a list row. */
export function failureLabel(f: RecordFailure): string {
  if (f.status === 'context-mismatch' && f.mismatches.includes('version-rollback'))
    return 'Older version';
  if (f.status === 'not-for-me') return 'Not for you';
  if (f.status === 'team-unverified') return 'Team warning';
  return 'Tamper warning';
}
