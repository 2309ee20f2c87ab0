import QRCode from 'qrcode';
import { decodeQr, judgeScan } from './qrScan';

const PAYLOAD = `medseal-safety:v1:${'0123456789abcdef'.repeat(2)}01234567:${'f'.repeat(40)}`;

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
    await expect(decodeQr(qrPixels(PAYLOAD))).resolves.toBe(PAYLOAD);
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

  it('when the scanned code is ours, another safety code, or something else, then it is a match, a mismatch, or not a safety code', () => {
    expect(judgeScan(PAYLOAD, PAYLOAD)).toBe('match');
    expect(judgeScan(PAYLOAD.replace(/f{40}$/, 'e'.repeat(40)), PAYLOAD)).toBe('mismatch');
    expect(judgeScan('https://example.org/', PAYLOAD)).toBe('not-a-safety-code');
  });
});
