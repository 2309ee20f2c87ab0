import { createCipheriv, createDecipheriv, randomBytes } from 'node:crypto';
import { AppError } from './errors';

/**
 * Seals a (password-locked) private key blob with AES-256-GCM under a server secret before
 * it touches the database, so a stolen database alone gives nothing to guess passwords
 * against (DESIGN §3). Format v1: `0x01 ‖ iv(12) ‖ ciphertext ‖ tag(16)`. The additional
 * data binds the blob to its user and purpose, so sealed blobs cannot be swapped between
 * accounts or between the password and recovery copies.
 */
const FORMAT_V1 = 1;

export function seal(key: Buffer, plaintext: string, context: string): Buffer {
  const iv = randomBytes(12);
  const cipher = createCipheriv('aes-256-gcm', key, iv);
  cipher.setAAD(Buffer.from(`medseal/v1/seal/${context}`));
  const body = Buffer.concat([cipher.update(plaintext, 'utf8'), cipher.final()]);
  return Buffer.concat([Buffer.from([FORMAT_V1]), iv, body, cipher.getAuthTag()]);
}

/** @throws AppError 500 `sealed-blob-unreadable` for an unknown format or a failed tag check. */
export function unseal(key: Buffer, sealed: Buffer, context: string): string {
  if (sealed.length < 1 + 12 + 16 || sealed[0] !== FORMAT_V1) {
    throw new AppError({
      status: 500,
      code: 'sealed-blob-unreadable',
      message: 'A stored key has an unknown format.',
    });
  }
  try {
    const iv = sealed.subarray(1, 13);
    const tag = sealed.subarray(sealed.length - 16);
    const decipher = createDecipheriv('aes-256-gcm', key, iv);
    decipher.setAAD(Buffer.from(`medseal/v1/seal/${context}`));
    decipher.setAuthTag(tag);
    return Buffer.concat([
      decipher.update(sealed.subarray(13, sealed.length - 16)),
      decipher.final(),
    ]).toString('utf8');
  } catch (error) {
    throw new AppError({
      status: 500,
      code: 'sealed-blob-unreadable',
      message: 'A stored key could not be unsealed.',
      cause: error,
    });
  }
}
