// Sharing grants (DESIGN §6): the sharer signs who was given access to which record.
import type * as openpgp from 'openpgp';
import { CryptoError } from './errors';
import { canonicalJson, fromUtf8, utf8 } from './encoding';
import { parseFingerprint } from './fingerprint';
import { parseKey, type UnlockedKey } from './keys';
import { signInline, verifyInline } from './signing';
import { parseSignedTreeHead, type SignedTreeHead } from './transparency/heads';
import type { Fingerprint, Grant, RecordId, UserId } from './types';

const GRANT_PURPOSE = 'medseal/v1/grant';

export interface GrantInput {
  recordId: RecordId;
  granteeUserId: UserId;
  granteeFingerprint: Fingerprint;
  grantedBy: UserId;
  /** Defaults to now. */
  at?: Date;
  expiresAt?: Date;
  /** The sharer's latest key-transparency head (DESIGN §14 gossip). */
  ktHead?: SignedTreeHead;
}

function isIso(value: unknown): value is string {
  return (
    typeof value === 'string' &&
    !Number.isNaN(Date.parse(value)) &&
    new Date(value).toISOString() === value
  );
}

function parseGrant(value: unknown): Grant | null {
  if (typeof value !== 'object' || value === null) return null;
  const g = value as Record<string, unknown>;
  const allowed = new Set([
    'v',
    'recordId',
    'granteeUserId',
    'granteeFingerprint',
    'grantedBy',
    'at',
    'expiresAt',
    'ktHead',
  ]);
  if (Object.keys(g).some((k) => !allowed.has(k))) return null;
  if (g.v !== 1) return null;
  for (const k of ['recordId', 'granteeUserId', 'grantedBy'] as const) {
    if (typeof g[k] !== 'string' || g[k] === '') return null;
  }
  if (typeof g.granteeFingerprint !== 'string' || !/^[0-9a-f]{40}$/.test(g.granteeFingerprint))
    return null;
  if (!isIso(g.at)) return null;
  if (g.expiresAt !== undefined && !isIso(g.expiresAt)) return null;
  if (g.ktHead !== undefined && !parseSignedTreeHead(g.ktHead)) return null;
  return g as unknown as Grant;
}

/**
 * Signs a grant with the sharer's key. Returns the armored signed message the server stores.
 * Throws `invalid-argument`, `invalid-fingerprint`.
 */
export async function createGrant(opts: {
  grant: GrantInput;
  signerKey: UnlockedKey;
}): Promise<{ signedGrant: string; grant: Grant }> {
  const { grant: input } = opts;
  for (const k of ['recordId', 'granteeUserId', 'grantedBy'] as const) {
    if (typeof input[k] !== 'string' || input[k] === '')
      throw new CryptoError('invalid-argument', `grant.${k} is required`);
  }
  const at = input.at ?? new Date();
  const grant: Grant = {
    v: 1,
    recordId: input.recordId,
    granteeUserId: input.granteeUserId,
    granteeFingerprint: parseFingerprint(input.granteeFingerprint),
    grantedBy: input.grantedBy,
    at: at.toISOString(),
    ...(input.expiresAt ? { expiresAt: input.expiresAt.toISOString() } : {}),
    ...(input.ktHead ? { ktHead: input.ktHead } : {}),
  };
  if (input.ktHead !== undefined && !parseSignedTreeHead(input.ktHead))
    throw new CryptoError('invalid-argument', 'grant.ktHead must be a signed tree head');
  const signedGrant = await signInline(
    utf8(canonicalJson({ purpose: GRANT_PURPOSE, grant })),
    opts.signerKey,
  );
  return { signedGrant, grant };
}

/**
 * Verifies a grant against the key of the user who claims to have made it. Anything that does
 * not verify (bad or missing signature, other signer, malformed content) is `bad-signature`.
 * Throws CryptoError `invalid-key` only when `signerPublicKey` itself is unreadable.
 */
export async function verifyGrant(opts: {
  signedGrant: string;
  signerPublicKey: string;
}): Promise<{ status: 'verified'; grant: Grant } | { status: 'bad-signature' }> {
  return verifyGrantWithKey(opts.signedGrant, await parseKey(opts.signerPublicKey));
}

/** `verifyGrant` with the signer's key already parsed (callers that also need its fingerprint parse it once). */
export async function verifyGrantWithKey(
  signedGrant: string,
  key: openpgp.Key,
): Promise<{ status: 'verified'; grant: Grant } | { status: 'bad-signature' }> {
  const data = typeof signedGrant === 'string' ? await verifyInline(signedGrant, key) : null;
  if (!data) return { status: 'bad-signature' };
  try {
    const parsed = JSON.parse(fromUtf8(data)) as unknown;
    if (typeof parsed !== 'object' || parsed === null) return { status: 'bad-signature' };
    const { purpose, grant, ...rest } = parsed as Record<string, unknown>;
    if (purpose !== GRANT_PURPOSE || Object.keys(rest).length > 0)
      return { status: 'bad-signature' };
    const valid = parseGrant(grant);
    return valid ? { status: 'verified', grant: valid } : { status: 'bad-signature' };
  } catch {
    return { status: 'bad-signature' };
  }
}

/** True when the grant counts at `now` (not expired). */
export function grantIsCurrent(grant: Pick<Grant, 'expiresAt'>, now: Date = new Date()): boolean {
  return grant.expiresAt === undefined || Date.parse(grant.expiresAt) > now.getTime();
}
