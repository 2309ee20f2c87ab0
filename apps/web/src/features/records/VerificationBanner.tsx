import { Banner } from '../../ui';
import { describeFailure, type RecordFailure } from './failures';
import { FingerprintView } from '../sharing/Fingerprint';

export type Verification =
  | {
      status: 'verified';
      authorName: string;
      authorFingerprint: string;
      authorIsMe: boolean;
      authorVerified: boolean;
    }
  | { status: 'failed'; failure: RecordFailure };

/**
 * The record page's first line (issue 5): who signed it and with which key, or a tamper
 * warning. The page renders content only under a `verified` banner. "Verified" is said only of
 * the user's own key and of keys the user compared (DESIGN §12 "Keys", issue 10 class 6);
 * otherwise it says plainly that the key was not verified.
 */
export function VerificationBanner({ verification }: { verification: Verification }) {
  if (verification.status === 'failed') {
    return (
      <Banner tone="bad" title="Tamper warning: this record failed verification and is not shown.">
        {describeFailure(verification.failure)} It may have been altered on the server or replaced
        with another record. Nothing from it is displayed. If this keeps happening, tell the author.
      </Banner>
    );
  }
  // The 40-hex fingerprint is a technical detail: one click away, not on the main path (issue 14).
  const fingerprint = (
    <details>
      <summary>Details</summary>
      <FingerprintView
        fingerprint={verification.authorFingerprint}
        label="Signer’s key fingerprint"
      />
    </details>
  );
  if (verification.authorIsMe || verification.authorVerified) {
    return (
      <Banner
        tone="ok"
        title={`Verified: written and signed by ${verification.authorIsMe ? 'you' : verification.authorName}.`}
      >
        {verification.authorIsMe ? null : <span> You compared this key with them.</span>}
        {fingerprint}
      </Banner>
    );
  }
  return (
    <Banner
      tone="info"
      title={`Signed by ${verification.authorName} — a key you have not verified.`}
    >
      <span>
        {' '}
        The signature is intact, but you have not compared numbers with {verification.authorName}:
        if the server handed you someone else’s key, this record could come from someone else.
        Compare numbers with {verification.authorName} to be sure.
      </span>
      {fingerprint}
    </Banner>
  );
}
