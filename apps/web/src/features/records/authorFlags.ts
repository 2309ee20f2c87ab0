import type { ConsentGiven } from '@medseal/crypto';
import { consentForRecord } from '../consents/consents';
import type { VerifiedSummary } from './summaryLoader';

/**
 * What a verified row of the records list says of its author beside the name, judged against
 * the user's pins and consents as they are at render (DESIGN §12, §13): the same judgements as
 * the record page's key check and consent note, on what the row's summary verified.
 */
export interface AuthorFlags {
  /** Signed with a key the user has not verified. */
  keyUnverified: boolean;
  /** My record, signed by someone no consent of mine lets write for me with that key. */
  withoutConsent: boolean;
}

export const NO_FLAGS: AuthorFlags = { keyUnverified: false, withoutConsent: false };

/** `ownerId`: whose record the row is (as the summary verified it). */
export function authorFlagsOf(
  me: { id: string },
  accountState: {
    isVerified(userId: string, fingerprint: string): boolean;
    readonly consents: readonly ConsentGiven[];
  },
  ownerId: string | undefined,
  state: VerifiedSummary,
): AuthorFlags {
  const { author } = state;
  if (author.id === me.id) return NO_FLAGS;
  return {
    keyUnverified: !accountState.isVerified(author.id, author.fingerprint),
    withoutConsent:
      ownerId === me.id &&
      consentForRecord(accountState.consents, author, state.signedAt, state.teams).status ===
        'none',
  };
}
