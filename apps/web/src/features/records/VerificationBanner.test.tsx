import { render, screen } from '@testing-library/react';
import { VerificationBanner } from './VerificationBanner';

describe('VerificationBanner', () => {
  it('when a record failed verification, then it says so as an alert and explains why', () => {
    render(<VerificationBanner verification={{ status: 'tampered', reason: 'Its signature does not match its content.' }} />);
    expect(screen.getByRole('alert')).toHaveTextContent('Tamper warning: this record failed verification and is not shown.');
    expect(screen.getByRole('alert')).toHaveTextContent('Its signature does not match its content.');
  });

  it('when another person signed it with a key I have not compared, then it names them, shows their fingerprint and never says verified', () => {
    render(<VerificationBanner verification={{ status: 'verified', authorName: 'Dr Grey', authorFingerprint: 'ab'.repeat(20), authorIsMe: false, authorVerified: false }} />);
    expect(screen.getByRole('status')).toHaveTextContent('Signed by Dr Grey — a key you have not verified.');
    expect(screen.getByRole('status').textContent?.replace(/not verified/g, '')).not.toMatch(/verified/i);
    expect(screen.getByRole('group', { name: 'Signer’s key fingerprint' })).toHaveTextContent('ABAB');
  });

  it('when another person signed it with a key I compared, then it says verified', () => {
    render(<VerificationBanner verification={{ status: 'verified', authorName: 'Dr Grey', authorFingerprint: 'ab'.repeat(20), authorIsMe: false, authorVerified: true }} />);
    expect(screen.getByRole('status')).toHaveTextContent('Verified: written and signed by Dr Grey.');
  });
});
