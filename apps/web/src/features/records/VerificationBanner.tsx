import { Banner } from '../../ui';
import { FingerprintView } from '../sharing/Fingerprint';

export type Verification =
  | { status: 'verified'; authorName: string; authorFingerprint: string; authorIsMe: boolean; authorVerified: boolean }
  | { status: 'tampered'; reason: string };

/**
 * The record page's first line (issue 5): who signed it and with which key, or a tamper
 * warning. The page renders content only under a `verified` banner.
 */
export function VerificationBanner({ verification }: { verification: Verification }) {
  if (verification.status === 'tampered') {
    return (
      <Banner tone="bad" title="Tamper warning: this record failed verification and is not shown.">
        {verification.reason} It may have been altered on the server or replaced with another record. Nothing from it is displayed. If this keeps happening, tell the author.
      </Banner>
    );
  }
  return (
    <Banner tone="ok" title={`Verified: written and signed by ${verification.authorIsMe ? 'you' : verification.authorName}.`}>
      {verification.authorIsMe ? null : (
        <span>{verification.authorVerified ? ' You have verified this key.' : ' You have not compared this key with them yet (see Contacts).'}</span>
      )}
      <FingerprintView fingerprint={verification.authorFingerprint} label="Signer’s key fingerprint" />
    </Banner>
  );
}
