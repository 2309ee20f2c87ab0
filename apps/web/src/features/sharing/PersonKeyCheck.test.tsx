import { render, screen } from '@testing-library/react';
import userEvent from '@testing-library/user-event';
import { PersonKeyCheck, type KeyCandidate } from './PersonKeyCheck';

const person = { id: 'd1', name: 'Dr Grey', role: 'doctor' as const };
const FP = '0123456789abcdef0123456789abcdef01234567';
const OLD = 'f'.repeat(40);
const base = {
  person,
  fingerprint: FP,
  safetyNumber: '1'.repeat(60),
  qrPayload: `medseal-safety:v2:${'2'.repeat(40)}:${FP}`,
  theirQrPayload: `medseal-safety:v2:${FP}:${'2'.repeat(40)}`,
};

describe('PersonKeyCheck', () => {
  it('when the key is new, then it says so in plain words and offers sharing and comparing numbers', async () => {
    const user = userEvent.setup();
    const calls: string[] = [];
    const candidate: KeyCandidate = { ...base, state: { status: 'new' } };
    render(
      <PersonKeyCheck
        candidate={candidate}
        onCompare={() => calls.push('compare')}
        onShare={() => calls.push('share')}
      />,
    );
    expect(screen.getByText('Not checked yet')).toBeInTheDocument();
    expect(screen.queryByText(/pinned|fingerprint/i)).toBeNull();
    await user.click(screen.getByRole('button', { name: 'Share' }));
    await user.click(screen.getByRole('button', { name: 'Compare numbers with Dr Grey' }));
    expect(calls).toEqual(['share', 'compare']);
  });

  it('when the key changed, then sharing is disabled and the change is explained', () => {
    const contact = {
      userId: 'd1',
      name: 'Dr Grey',
      role: 'doctor' as const,
      fingerprint: OLD,
      verified: true,
      pinnedAt: '2026-01-01T00:00:00Z',
      previous: [],
    };
    const candidate: KeyCandidate = {
      ...base,
      state: { status: 'changed', contact, newFingerprint: FP },
    };
    render(
      <PersonKeyCheck
        candidate={candidate}
        onCompare={() => undefined}
        onShare={() => undefined}
      />,
    );
    expect(screen.getByRole('button', { name: 'Share' })).toBeDisabled();
    expect(screen.getByRole('alert')).toHaveTextContent('key has changed. Sharing is blocked.');
    expect(screen.getByRole('button', { name: 'Compare numbers with Dr Grey' })).toBeEnabled();
  });
});
