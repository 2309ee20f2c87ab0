// Account states of a given size for the account-state tests.
import { ownKeyOf, type AccountState, type Fingerprint, type UserId } from '../src';
import type { makeUser } from './helpers';

export type User = Awaited<ReturnType<typeof makeUser>>;

/** A state of `size` pins and `records` records tracked, for `user`. */
export async function stateOf(user: User, opts: { userId?: string; version?: number; pins?: number; records?: number } = {}): Promise<AccountState> {
  const fp = (i: number) => i.toString(16).padStart(40, '0') as Fingerprint;
  const seen: Record<string, number> = {};
  for (let i = 0; i < (opts.records ?? 2); i++) seen[`rec-${i.toString(36).padStart(16, '0')}xyz12`] = 1 + (i % 7);
  return {
    userId: (opts.userId ?? 'u-me') as UserId,
    version: opts.version ?? 1,
    ownKey: await ownKeyOf(user.privateKey),
    pins: Array.from({ length: opts.pins ?? 2 }, (_, i) => ({
      userId: `u-${i}` as UserId,
      fingerprint: fp(i + 1),
      verified: i % 2 === 0,
      name: `Dr Person ${i}`,
      role: 'doctor',
      pinnedAt: '2026-12-01T10:00:00.000Z',
      ...(i % 2 === 0 ? { verifiedAt: '2026-12-02T10:00:00.000Z' } : {}),
      previous: i === 0 ? [fp(999)] : [],
    })),
    seen,
    consents: [{ kind: 'person', subjectId: 'u-0', fingerprint: fp(1), since: '2026-12-01T10:00:00.000Z', seq: 1 }],
    transparencyHead: null,
  };
}

