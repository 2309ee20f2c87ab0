import { render, screen } from '@testing-library/react';
import { VerificationBanner } from './VerificationBanner';

describe('VerificationBanner', () => {
  it('when a record failed verification, then it says so as an alert and explains why', () => {
    render(<VerificationBanner verification={{ status: 'tampered', reason: 'Its signature is missing or invalid (modified-ciphertext).' }} />);
    expect(screen.getByRole('alert')).toHaveTextContent('Tamper warning: this record failed verification and is not shown.');
    expect(screen.getByRole('alert')).toHaveTextContent('modified-ciphertext');
  });

  it('when another person signed it, then it names them, shows their fingerprint and whether it was compared', () => {
    render(<VerificationBanner verification={{ status: 'verified', authorName: 'Dr Grey', authorFingerprint: 'ab'.repeat(20), authorIsMe: false, authorVerified: false }} />);
    expect(screen.getByRole('status')).toHaveTextContent('Verified: written and signed by Dr Grey.');
    expect(screen.getByRole('status')).toHaveTextContent('not compared this key');
    expect(screen.getByRole('group', { name: 'Signer’s key fingerprint' })).toHaveTextContent('ABAB');
  });
});
