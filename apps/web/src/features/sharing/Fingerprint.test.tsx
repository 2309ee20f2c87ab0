import { render, screen } from '@testing-library/react';
import { fingerprintGroups, FingerprintView, SafetyNumberView } from './Fingerprint';

describe('fingerprint display', () => {
  it('when given a v4 fingerprint, then it shows 10 groups of 4 upper-case hex digits', () => {
    render(<FingerprintView fingerprint="0123456789abcdef0123456789abcdef01234567" />);
    const group = screen.getByRole('group', { name: 'Key fingerprint' });
    expect(group.children).toHaveLength(10);
    expect(group).toHaveTextContent('0123456789ABCDEF0123456789ABCDEF01234567');
  });

  it('when given something that is not 40 hex digits, then it refuses instead of showing it', () => {
    expect(() => fingerprintGroups('abcd')).toThrow(/not a v4 fingerprint/);
  });

  it('when given a 60-digit safety number, then it shows 12 groups of 5', () => {
    render(<SafetyNumberView digits={'12345'.repeat(12)} />);
    expect(screen.getByRole('group', { name: 'Safety number' }).children).toHaveLength(12);
  });
});
