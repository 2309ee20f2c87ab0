import { roleSchema } from '@medseal/contract';
import type { Person } from '../../app/keyBook';
import { useWorkspace } from '../../app/workspace';
import { pin, pinStateNow, whyBlocked } from '../contacts/contactsModel';
import type { KeyCandidate } from './PersonKeyCheck';

/** What a share dialog shares: the records, and who reads them already. */
export interface ShareTarget {
  recordIds: string[];
  /** Who can read the single record being shared already (verified readers), to say so before sharing. */
  readers?: string[];
  /** A record's title for messages about it (decrypted here). */
  titleOf?(recordId: string): string | undefined;
}

/**
 * Builds the key check for a person: local fingerprint, safety number, both QR codes, pin state.
 * Someone I pinned goes by the name and role I pinned, whatever the directory says today.
 */
export function useCandidate() {
  const { deps } = useWorkspace();
  return async (person: Person): Promise<KeyCandidate> => {
    const pinned = deps.accountState.pinOf(person.id);
    const [safetyNumber, qrPayload, theirQrPayload] = await Promise.all([
      deps.crypto.safetyNumber(deps.key.fingerprint, person.fingerprint),
      deps.crypto.safetyNumberQrPayload(deps.key.fingerprint, person.fingerprint),
      deps.crypto.safetyNumberQrPayload(person.fingerprint, deps.key.fingerprint),
    ]);
    return {
      person: {
        id: person.id,
        name: pinned?.name ?? person.name,
        role: roleSchema.safeParse(pinned?.role).data ?? person.role,
      },
      fingerprint: person.fingerprint,
      safetyNumber,
      qrPayload,
      theirQrPayload,
      // The pins as they are now: a comparison may have changed them since this screen rendered.
      state: pinStateNow(deps.accountState.pins, person.id, person.fingerprint),
    };
  };
}

/**
 * Before a share: refuses when the person's key changed or did not match (in words), and pins a
 * key seen for the first time, unverified (the user chose to share without comparing).
 */
export function usePinBeforeSharing() {
  const { deps, contacts } = useWorkspace();
  return async (person: Person): Promise<void> => {
    // The pins as they are now: a comparison may just have marked the key verified.
    const state = pinStateNow(deps.accountState.pins, person.id, person.fingerprint);
    const blocked = whyBlocked(state, person.name);
    if (blocked) throw new Error(blocked);
    if (state.status === 'new')
      await contacts.update((doc) =>
        pin(
          doc,
          { id: person.id, name: person.name, role: person.role },
          person.fingerprint,
          new Date(),
        ),
      );
  };
}
