// Account states of a given size for the account-state tests.
import { ownKeyOf, type AccountState, type Fingerprint, type UserId } from '../src';
import type { makeUser } from './helpers';

export type User = Awaited<ReturnType<typeof makeUser>>;

/** A state of `size` pins and `records` records tracked, for `user`. */
export async function stateOf(
  user: User,
  opts: { userId?: string; version?: number; pins?: number; records?: number } = {},
): Promise<AccountState> {
  const fp = (i: number) => i.toString(16).padStart(40, '0') as Fingerprint;
  const seen: Record<string, number> = {};
  // Every record tracked also has an access-trail mark (the worst case for the state's size).
  const audit: AccountState['audit'] = {};
  for (let i = 0; i < (opts.records ?? 2); i++) {
    const id = `rec-${i.toString(36).padStart(16, '0')}xyz12`;
    seen[id] = 1 + (i % 7);
    audit[id] = { length: 3 + (i % 50), head: fp(i + 7).slice(0, 32) };
  }
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
    audit,
    consentBooks: { 'u-patient-0': 4 },
    consents: [
      {
        kind: 'person',
        subjectId: 'u-0',
        fingerprint: fp(1),
        since: '2026-12-01T10:00:00.000Z',
        seq: 1,
      },
      // A consent to a care team keeps the genesis it names (a 7th element in the wire row).
      {
        kind: 'team',
        subjectId: 'team-0',
        fingerprint: fp(2),
        since: '2026-12-01T10:00:00.000Z',
        seq: 2,
        withdrawnAt: '2026-12-02T10:00:00.000Z',
        genesis: 'genesis-0',
      },
    ],
    transparencyHead: null,
    teams: [
      {
        teamId: 'team-cardiology',
        genesis: 'g'.repeat(43),
        root: fp(1),
        seq: 3,
        head: 'h'.repeat(43),
      },
    ],
  };
}
