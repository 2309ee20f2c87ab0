import { render, screen } from '@testing-library/react';
import type { RecordFailure } from './failures';
import { VerificationBanner } from './VerificationBanner';

describe('VerificationBanner', () => {
  it('when a record failed verification, then it says so as an alert and explains why in plain words', () => {
    render(
      <VerificationBanner
        verification={{
          status: 'failed',
          failure: { status: 'bad-signature', reason: 'modified-ciphertext' },
        }}
      />,
    );
    expect(screen.getByRole('alert')).toHaveTextContent(
      'Tamper warning: this record failed verification and is not shown.',
    );
    expect(screen.getByRole('alert')).toHaveTextContent(
      'Its encrypted content was changed on the way or on the server.',
    );
  });

  it.each([
    [
      { status: 'context-mismatch', mismatches: ['version-rollback'] },
      'older version than one you have already seen',
    ],
    [{ status: 'context-mismatch', mismatches: ['packets'] }, 'the server may be hiding a reader'],
    [
      { status: 'context-mismatch', mismatches: ['recordId', 'recipients'] },
      'another record’s content than the one asked for. Its readers are not the ones',
    ],
    [
      { status: 'unknown-author-key', reason: 'author-key-mismatch' },
      'another key than the one you have for its author',
    ],
    [{ status: 'not-for-me' }, 'not encrypted to your key'],
    [{ status: 'unknown-content' }, 'not in a format this app knows'],
  ] as const)(
    'when opening failed with %j, then the banner says it in its own words',
    (failure, words) => {
      render(
        <VerificationBanner
          verification={{
            status: 'failed',
            failure: {
              ...failure,
              ...('mismatches' in failure ? { mismatches: [...failure.mismatches] } : {}),
            } as RecordFailure,
          }}
        />,
      );
      expect(screen.getByRole('alert')).toHaveTextContent(words);
    },
  );

  it('when another person signed it with a key I have not compared, then it names them, keeps their fingerprint one click away under Details and never says verified', () => {
    render(
      <VerificationBanner
        verification={{
          status: 'verified',
          authorName: 'Dr Grey',
          authorFingerprint: 'ab'.repeat(20),
          authorIsMe: false,
          authorVerified: false,
        }}
      />,
    );
    expect(screen.getByRole('status')).toHaveTextContent(
      'Signed by Dr Grey — a key you have not verified.',
    );
    expect(screen.getByRole('status').textContent?.replace(/not verified/g, '')).not.toMatch(
      /verified/i,
    );
    const fingerprint = screen.getByRole('group', { name: 'Signer’s key fingerprint' });
    expect(fingerprint).toHaveTextContent('ABAB');
    expect(fingerprint.closest('details')).not.toHaveAttribute('open');
    expect(screen.getByRole('status').querySelector('details > summary')).toHaveTextContent(
      'Details',
    );
  });

  it('when another person signed it with a key I compared, then it says verified', () => {
    render(
      <VerificationBanner
        verification={{
          status: 'verified',
          authorName: 'Dr Grey',
          authorFingerprint: 'ab'.repeat(20),
          authorIsMe: false,
          authorVerified: true,
        }}
      />,
    );
    expect(screen.getByRole('status')).toHaveTextContent(
      'Verified: written and signed by Dr Grey.',
    );
  });
});
