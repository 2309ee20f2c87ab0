// Small signed statements (grants, login challenges): inline or detached OpenPGP signatures over
// canonical bytes that start with a purpose string, so a signature made for one purpose can never
// be replayed as another (domain separation).
import * as openpgp from 'openpgp';
import { CryptoError } from './errors';
import { canonicalJson, fromUtf8, utf8 } from './encoding';
import { parseKey, type UnlockedKey } from './keys';
import { MESSAGE_CONFIG, READ_CONFIG } from './openpgp-config';

export async function signInline(data: Uint8Array, key: UnlockedKey, date?: Date): Promise<string> {
  const message = await openpgp.createMessage({ binary: data, format: 'binary' });
  return openpgp.sign({
    message,
    signingKeys: key.key,
    format: 'armored',
    ...(date ? { date } : {}),
    config: MESSAGE_CONFIG,
  });
}

/** Verifies an inline-signed message by exactly `publicKey`; returns the signed bytes or null. */
export async function verifyInline(
  armored: string,
  publicKey: openpgp.Key,
  date?: Date,
): Promise<Uint8Array | null> {
  try {
    const message = await openpgp.readMessage({ armoredMessage: armored, config: READ_CONFIG });
    // A signed statement is literal data + signature only: never encrypted or compressed.
    const tags = message.packets.map((p) => (p.constructor as { tag?: number }).tag);
    if (
      tags.some(
        (t) =>
          t !== openpgp.enums.packet.onePassSignature &&
          t !== openpgp.enums.packet.literalData &&
          t !== openpgp.enums.packet.signature,
      )
    ) {
      return null;
    }
    const { data, signatures } = await openpgp.verify({
      message,
      verificationKeys: publicKey,
      expectSigned: true,
      format: 'binary',
      ...(date ? { date } : {}),
      config: READ_CONFIG,
    });
    if (signatures.length !== 1) return null;
    return data;
  } catch {
    // Any parse or verification failure is reported as "not verified" by the callers.
    return null;
  }
}

export async function signDetached(data: Uint8Array, key: UnlockedKey): Promise<string> {
  const message = await openpgp.createMessage({ binary: data, format: 'binary' });
  return openpgp.sign({
    message,
    signingKeys: key.key,
    detached: true,
    format: 'armored',
    config: MESSAGE_CONFIG,
  });
}

export async function verifyDetached(
  data: Uint8Array,
  signature: string,
  publicKeyArmored: string,
): Promise<void> {
  const key = await parseKey(publicKeyArmored);
  try {
    const sig = await openpgp.readSignature({ armoredSignature: signature, config: READ_CONFIG });
    const message = await openpgp.createMessage({ binary: data, format: 'binary' });
    const { signatures } = await openpgp.verify({
      message,
      signature: sig,
      verificationKeys: key,
      expectSigned: true,
      config: READ_CONFIG,
    });
    if (signatures.length !== 1) throw new Error('expected exactly one signature');
  } catch (cause) {
    throw new CryptoError('bad-signature', 'the signature does not verify with this key', {
      cause,
    });
  }
}

/** The bytes of a signed statement: canonical JSON of `{purpose, [field]: value}`. */
export function statementBytes(purpose: string, field: string, value: unknown): Uint8Array {
  return utf8(canonicalJson({ purpose, [field]: value }));
}

/**
 * Verifies an inline-signed statement made by `statementBytes` (exactly one signature by
 * `publicKey`, canonical bytes, this purpose) and returns the value under `field`, or null for
 * anything that does not verify.
 */
export async function verifyStatement(
  armored: string,
  publicKey: openpgp.Key,
  purpose: string,
  field: string,
): Promise<unknown> {
  const data = typeof armored === 'string' ? await verifyInline(armored, publicKey) : null;
  if (!data) return null;
  try {
    const text = fromUtf8(data);
    const parsed = JSON.parse(text) as unknown;
    if (typeof parsed !== 'object' || parsed === null || canonicalJson(parsed) !== text)
      return null;
    const { purpose: p, [field]: value, ...rest } = parsed as Record<string, unknown>;
    return p === purpose && Object.keys(rest).length === 0 ? value : null;
  } catch {
    return null;
  }
}
