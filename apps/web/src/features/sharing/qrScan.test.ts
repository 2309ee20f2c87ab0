import QRCode from 'qrcode';
import { decodeQr, judgeScan } from './qrScan';

const MINE = `${'0123456789abcdef'.repeat(2)}01234567`;
const THEIRS = 'f'.repeat(40);
/** What their screen shows, and what ours does (safetyNumberQrPayload: the shower first). */
const CODES = {
  theirs: `medseal-safety:v2:${THEIRS}:${MINE}`,
  ours: `medseal-safety:v2:${MINE}:${THEIRS}`,
};

/** The QR code of `text` as a grey-scale picture, 4 pixels a module, with a quiet zone. */
function qrPixels(text: string): ImageData {
  const { modules } = QRCode.create(text, { errorCorrectionLevel: 'M' });
  const scale = 4;
  const quiet = 4;
  const side = (modules.size + 2 * quiet) * scale;
  const data = new Uint8ClampedArray(side * side * 4).fill(255);
  for (let y = 0; y < side; y++) {
    for (let x = 0; x < side; x++) {
      const mx = Math.floor(x / scale) - quiet;
      const my = Math.floor(y / scale) - quiet;
      const dark =
        mx >= 0 && my >= 0 && mx < modules.size && my < modules.size && modules.get(my, mx) === 1;
      if (dark) data.fill(0, (y * side + x) * 4, (y * side + x) * 4 + 3);
    }
  }
  return { data, width: side, height: side, colorSpace: 'srgb' } as ImageData;
}

describe('reading the safety-number QR code', () => {
  it('when the browser has no BarcodeDetector, then the jsQR decoder reads the code Medseal draws', async () => {
    expect('BarcodeDetector' in globalThis).toBe(false);
    await expect(decodeQr(qrPixels(CODES.theirs))).resolves.toBe(CODES.theirs);
  });

  it('when the picture holds no code, then there is no result', async () => {
    const blank = {
      data: new Uint8ClampedArray(64 * 64 * 4).fill(255),
      width: 64,
      height: 64,
      colorSpace: 'srgb',
    } as ImageData;
    await expect(decodeQr(blank)).resolves.toBeNull();
  });

  it('when the scanned code is the one their screen shows, our own, another safety code, one of an older version, or something else, then only theirs is a match', () => {
    expect(judgeScan(CODES.theirs, CODES)).toBe('match');
    expect(judgeScan(CODES.ours, CODES)).toBe('own-code');
    expect(judgeScan(CODES.theirs.replace(/f{40}/, 'e'.repeat(40)), CODES)).toBe('mismatch');
    // Version 1 was the same on both screens (fingerprints sorted): it proves nothing either way.
    expect(judgeScan(`medseal-safety:v1:${MINE}:${THEIRS}`, CODES)).toBe('other-version');
    expect(judgeScan('https://example.org/', CODES)).toBe('not-a-safety-code');
  });
});
