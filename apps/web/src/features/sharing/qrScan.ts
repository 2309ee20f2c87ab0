// Reading the other person's safety-number QR code (issue 14): the browser's BarcodeDetector
// where it has one for QR codes (Chrome on Android and macOS, Safari), else jsQR, imported only
// when someone scans so the first page stays within its budget. Frames never leave the page.

/** The part of the Shape Detection API used here (not yet in TypeScript's DOM types). */
interface BarcodeDetectorLike {
  detect(image: ImageBitmapSource): Promise<{ rawValue: string }[]>;
}
interface BarcodeDetectorClass {
  new (options: { formats: string[] }): BarcodeDetectorLike;
  getSupportedFormats(): Promise<string[]>;
}

type Decoder = (frame: ImageData) => Promise<string | null>;

let decoder: Promise<Decoder> | undefined;

async function pickDecoder(): Promise<Decoder> {
  const native = (globalThis as { BarcodeDetector?: BarcodeDetectorClass }).BarcodeDetector;
  if (
    native &&
    (await native.getSupportedFormats().catch((): string[] => [])).includes('qr_code')
  ) {
    const detector = new native({ formats: ['qr_code'] });
    return async (frame) => (await detector.detect(frame))[0]?.rawValue ?? null;
  }
  const { default: jsQR } = await import('jsqr');
  return (frame) =>
    Promise.resolve(
      jsQR(frame.data, frame.width, frame.height, { inversionAttempts: 'attemptBoth' })?.data ??
        null,
    );
}

/** The text of the first QR code in `frame`, or null when there is none. */
export function decodeQr(frame: ImageData): Promise<string | null> {
  decoder ??= pickDecoder();
  return decoder.then((decode) => decode(frame));
}

/** Largest side a frame is decoded at: a phone photo of 4,000 px decodes as well at 1,000, 16× faster. */
const MAX_SIDE = 1000;

/** The pixels of a video frame or a picture, scaled down to at most MAX_SIDE. */
export function pixelsOf(source: HTMLVideoElement | ImageBitmap): ImageData | null {
  const width = source instanceof HTMLVideoElement ? source.videoWidth : source.width;
  const height = source instanceof HTMLVideoElement ? source.videoHeight : source.height;
  if (width === 0 || height === 0) return null;
  const scale = Math.min(1, MAX_SIDE / Math.max(width, height));
  const canvas = document.createElement('canvas');
  canvas.width = Math.round(width * scale);
  canvas.height = Math.round(height * scale);
  const context = canvas.getContext('2d', { willReadFrequently: true });
  if (!context) return null;
  context.drawImage(source, 0, 0, canvas.width, canvas.height);
  return context.getImageData(0, 0, canvas.width, canvas.height);
}

/** The QR code in a picture file (a photo of the other person's screen), or null. */
export async function decodeQrInFile(file: Blob): Promise<string | null> {
  const bitmap = await createImageBitmap(file);
  try {
    const frame = pixelsOf(bitmap);
    return frame ? await decodeQr(frame) : null;
  } finally {
    bitmap.close();
  }
}

/** What a scanned code says about the comparison. */
export type ScanVerdict = 'match' | 'own-code' | 'mismatch' | 'other-version' | 'not-a-safety-code';

const SAFETY_CODE = 'medseal-safety:';
const THIS_VERSION = `${SAFETY_CODE}v2:`;

/**
 * Compares a scanned code with the codes computed here for the same pair of keys: `theirs` is
 * what the other person's screen shows (their fingerprint first), `ours` what this screen shows.
 * Our own code (scanned off this screen, a reflection or a photo of it) verifies nothing; any
 * other code of this version means that one of the two keys is not the one the other side has.
 * A code of another version is not compared (an older app showed the same code on both sides).
 */
export function judgeScan(scanned: string, codes: { theirs: string; ours: string }): ScanVerdict {
  if (scanned === codes.theirs) return 'match';
  if (scanned === codes.ours) return 'own-code';
  if (scanned.startsWith(THIS_VERSION)) return 'mismatch';
  return scanned.startsWith(SAFETY_CODE) ? 'other-version' : 'not-a-safety-code';
}
