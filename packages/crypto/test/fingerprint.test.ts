import { createHash } from 'node:crypto';
import { formatFingerprint, safetyNumber, safetyNumberQrPayload } from '../src';

/** Independent reference: Signal-style 5200× iterated SHA-512, 6 chunks of 5 bytes → 30 digits. */
function referenceHalf(fp: string): string {
  const fpBytes = Buffer.from(fp, 'hex');
  let hash: Buffer = Buffer.concat([Buffer.from('medseal/v1/safety-number'), fpBytes]);
  for (let i = 0; i < 5200; i++) hash = createHash('sha512').update(hash).update(fpBytes).digest();
  let out = '';
  for (let c = 0; c < 6; c++) out += String(hash.readUIntBE(c * 5, 5) % 100000).padStart(5, '0');
  return out;
}

const a = '0123456789abcdef0123456789abcdef01234567';
const b = 'fedcba9876543210fedcba9876543210fedcba98';

describe('formatFingerprint', () => {
  it('when given 40 hex, then 10 groups of 4 upper-case hex separated by spaces', () => {
    expect(formatFingerprint(a)).toBe('0123 4567 89AB CDEF 0123 4567 89AB CDEF 0123 4567');
    expect(formatFingerprint(formatFingerprint(a))).toBe(formatFingerprint(a));
  });
  it('when given anything else, then invalid-fingerprint', () => {
    expect(() => formatFingerprint('abc')).toThrow(
      expect.objectContaining({ code: 'invalid-fingerprint' }),
    );
  });
});

describe('safetyNumber', () => {
  it('when either side computes it, then both get the same 60 digits', async () => {
    const ab = await safetyNumber(a, b);
    expect(ab).toMatch(/^[0-9]{60}$/);
    expect(await safetyNumber(b, a)).toBe(ab);
  });
  it('when computed, then it equals the reference construction (sorted 30-digit halves)', async () => {
    expect(await safetyNumber(a, b)).toBe([referenceHalf(a), referenceHalf(b)].sort().join(''));
  });

  it('when one fingerprint changes, then the number changes', async () => {
    const c = a.slice(0, 39) + '8';
    expect(await safetyNumber(a, c)).not.toBe(await safetyNumber(a, b));
  });
  it('when a fingerprint is malformed, then invalid-fingerprint', async () => {
    await expect(safetyNumber(a, 'zz')).rejects.toMatchObject({ code: 'invalid-fingerprint' });
  });
});

describe('safetyNumberQrPayload', () => {
  it('when each side builds the code its screen shows, then it names the shower first, so neither side takes its own code for the other’s', () => {
    expect(safetyNumberQrPayload(b, a)).toBe(`medseal-safety:v2:${b}:${a}`);
    expect(safetyNumberQrPayload(a, b)).toBe(`medseal-safety:v2:${a}:${b}`);
    expect(safetyNumberQrPayload(a.toUpperCase(), b)).toBe(safetyNumberQrPayload(a, b));
  });
  it('when a fingerprint is malformed, then invalid-fingerprint', () => {
    expect(() => safetyNumberQrPayload(a, 'zz')).toThrow(
      expect.objectContaining({ code: 'invalid-fingerprint' }),
    );
  });
});
