import type { HighWaterMark } from '@medseal/crypto';
import { request, withStore } from './indexedDb';

/**
 * This device's high-water mark of each user's account state (DESIGN §12): the version and
 * content hash of the newest state it has verified. Kept in IndexedDB, outside the server's
 * reach, so a state older than one this device saw is refused after a reload or a new login.
 *
 * What erases it: the user clearing site data, and any answer of the origin carrying
 * `Clear-Site-Data: "storage"` — the server no longer sends that at logout (it would reset
 * the mark at every unlock), but a malicious operator can; the device then trusts the next
 * state it sees like a new device would (docs/threat-model.md).
 */
export interface HighWaterMarks {
  get(userId: string): Promise<HighWaterMark | undefined>;
  /** Keeps `mark` unless the stored one is newer. */
  raise(userId: string, mark: HighWaterMark): Promise<void>;
}

const DB = { name: 'medseal-account-state', store: 'high-water-marks' };

function isMark(value: unknown): value is HighWaterMark {
  const m = value as Partial<HighWaterMark> | undefined;
  return typeof m?.version === 'number' && typeof m.hash === 'string';
}

/** The marks of this browser profile (one per device). */
export const deviceHighWaterMarks: HighWaterMarks = {
  async get(userId) {
    const value: unknown = await withStore(DB, 'readonly', (s) => request(s.get(userId)));
    return isMark(value) ? value : undefined;
  },
  async raise(userId, mark) {
    // One readwrite transaction: read and write cannot interleave with another tab's raise.
    await withStore(DB, 'readwrite', async (s) => {
      const current: unknown = await request(s.get(userId));
      if (!isMark(current) || current.version < mark.version)
        await request(s.put({ version: mark.version, hash: mark.hash }, userId));
    });
  },
};
