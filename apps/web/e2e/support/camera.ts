// A camera that films a QR code: Chromium's fake capture device plays a Y4M file, so the app's
// real scanning path (getUserMedia → frames → decoder) runs in the test.
import { writeFileSync } from 'node:fs';
import QRCode from 'qrcode';

const WIDTH = 640;
const HEIGHT = 480;

/**
 * Writes one 640×480 I420 frame showing the QR code of `text` (black on white, quiet zone
 * included) as a Y4M file; Chromium loops it.
 */
export function writeQrY4m(path: string, text: string): void {
  const { modules } = QRCode.create(text, { errorCorrectionLevel: 'M' });
  const scale = Math.floor((HEIGHT - 40) / (modules.size + 8));
  const side = modules.size * scale;
  const left = Math.floor((WIDTH - side) / 2);
  const top = Math.floor((HEIGHT - side) / 2);
  const luma = Buffer.alloc(WIDTH * HEIGHT, 235);
  for (let y = 0; y < side; y++) {
    for (let x = 0; x < side; x++) {
      if (modules.get(Math.floor(y / scale), Math.floor(x / scale)) === 1)
        luma[(top + y) * WIDTH + left + x] = 16;
    }
  }
  const chroma = Buffer.alloc((WIDTH / 2) * (HEIGHT / 2) * 2, 128);
  const header = Buffer.from(
    `YUV4MPEG2 W${WIDTH} H${HEIGHT} F10:1 Ip A1:1 C420jpeg\nFRAME\n`,
    'latin1',
  );
  writeFileSync(path, Buffer.concat([header, luma, chroma]));
}

/** Chromium flags: a fake camera playing `y4mPath`, allowed without a prompt. */
export function fakeCameraArgs(y4mPath: string): string[] {
  return [
    '--use-fake-device-for-media-stream',
    '--use-fake-ui-for-media-stream',
    `--use-file-for-fake-video-capture=${y4mPath}`,
  ];
}
