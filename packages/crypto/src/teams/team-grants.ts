// Sharing a record with a care team (DESIGN §13): one PKESK for the team key plus one grant
// signed by the sharer. The grant names the team (its id and the hash of its creation
// statement), never a team key: which key counts is what the team's admin-signed statements
// say (`teamKeyAt`), so the grant stays valid across rotations.
import { CryptoError } from '../errors';
import { isIsoTime } from '../encoding';
import type * as openpgp from 'openpgp';
import { parseKey, type UnlockedKey } from '../keys';
import { signInline, statementBytes, verifyStatement } from '../signing';
import type { RecordId, UserId } from '../types';

const TEAM_GRANT_PURPOSE = 'medseal/team-grant';

export interface TeamGrant {
  v: 1;
  kind: 'team';
  recordId: RecordId;
  teamId: string;
  /** `TeamState.genesis` of the team as the sharer verified it. */
  genesis: string;
  grantedBy: UserId;
  /** ISO 8601. */
  at: string;
  /** ISO 8601; after it the grant no longer counts. */
  expiresAt?: string;
}

export interface TeamGrantInput {
  recordId: string;
  teamId: string;
  genesis: string;
  grantedBy: string;
  at?: Date;
  expiresAt?: Date;
}

const FIELDS = ['v', 'kind', 'recordId', 'teamId', 'genesis', 'grantedBy', 'at', 'expiresAt'];

function parseTeamGrant(value: unknown): TeamGrant | null {
  if (typeof value !== 'object' || value === null) return null;
  const g = value as Record<string, unknown>;
  if (!Object.keys(g).every((k) => FIELDS.includes(k)) || g.v !== 1 || g.kind !== 'team')
    return null;
  const ok =
    [g.recordId, g.teamId, g.grantedBy].every((v) => typeof v === 'string' && v !== '') &&
    typeof g.genesis === 'string' &&
    /^[A-Za-z0-9_-]{43}$/.test(g.genesis) &&
    isIsoTime(g.at) &&
    (g.expiresAt === undefined || isIsoTime(g.expiresAt));
  return ok ? (g as unknown as TeamGrant) : null;
}

/**
 * Signs a team grant with the sharer's key; returns the armored signed message the server stores.
 * @throws CryptoError `invalid-argument`.
 */
export async function createTeamGrant(opts: {
  grant: TeamGrantInput;
  signerKey: UnlockedKey;
}): Promise<{ signedGrant: string; grant: TeamGrant }> {
  const input = opts.grant;
  const grant: TeamGrant = {
    v: 1,
    kind: 'team',
    recordId: input.recordId as RecordId,
    teamId: input.teamId,
    genesis: input.genesis,
    grantedBy: input.grantedBy as UserId,
    at: (input.at ?? new Date()).toISOString(),
    ...(input.expiresAt ? { expiresAt: input.expiresAt.toISOString() } : {}),
  };
  if (!parseTeamGrant(grant)) {
    throw new CryptoError(
      'invalid-argument',
      'a team grant needs recordId, teamId, genesis and grantedBy',
    );
  }
  const signedGrant = await signInline(
    statementBytes(TEAM_GRANT_PURPOSE, 'grant', grant),
    opts.signerKey,
  );
  return { signedGrant, grant };
}

/**
 * Verifies a team grant against the key of the user who claims to have made it. Anything that
 * does not verify (signature, signer, shape, purpose) is `bad-signature`.
 * @throws CryptoError `invalid-key` only when `signerPublicKey` itself is unreadable.
 */
export async function verifyTeamGrant(opts: {
  signedGrant: string;
  signerPublicKey: string;
}): Promise<{ status: 'verified'; grant: TeamGrant } | { status: 'bad-signature' }> {
  return verifyTeamGrantWithKey(opts.signedGrant, await parseKey(opts.signerPublicKey));
}

/** verifyTeamGrant with the signer's key already parsed (the reader rule checks many grants). */
export async function verifyTeamGrantWithKey(
  signedGrant: string,
  key: openpgp.Key,
): Promise<{ status: 'verified'; grant: TeamGrant } | { status: 'bad-signature' }> {
  const value = await verifyStatement(signedGrant, key, TEAM_GRANT_PURPOSE, 'grant').catch(
    () => null,
  );
  const grant = parseTeamGrant(value);
  return grant ? { status: 'verified', grant } : { status: 'bad-signature' };
}
