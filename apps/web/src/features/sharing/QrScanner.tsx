import { useEffect, useEffectEvent, useRef, useState, type ChangeEvent } from 'react';
import { Banner, Button } from '../../ui';
import { decodeQr, decodeQrInFile, pixelsOf } from './qrScan';
import styles from './sharing.module.css';

/** How often a camera frame is decoded: often enough to feel instant, rarely enough for old phones. */
const FRAME_INTERVAL_MS = 150;

function cameraProblem(error: unknown): string {
  const name = error instanceof DOMException ? error.name : '';
  if (name === 'NotAllowedError' || name === 'SecurityError')
    return 'Medseal may not use the camera. Allow the camera for this site in your browser, or use a photo instead.';
  if (name === 'NotFoundError' || name === 'OverconstrainedError')
    return 'No camera was found on this device. Use a photo of their screen instead.';
  if (name === 'NotReadableError')
    return 'The camera is in use by another app. Close it and try again, or use a photo instead.';
  return 'The camera could not be started. Use a photo of their screen instead.';
}

/**
 * Reads a QR code from the camera (until one is found or the person stops) or from a photo.
 * Calls `onCode` once with the text; decoding happens in this page, nothing is uploaded.
 */
export function QrScanner({ onCode, onStop }: { onCode(text: string): void; onStop(): void }) {
  const video = useRef<HTMLVideoElement>(null);
  const [problem, setProblem] = useState<string | null>(null);
  const [status, setStatus] = useState('Starting the camera…');
  const done = useRef(false);
  const found = useEffectEvent((text: string) => onCode(text));

  useEffect(() => {
    let stream: MediaStream | null = null;
    let timer: ReturnType<typeof setTimeout> | undefined;
    let live = true;
    const tick = async () => {
      const element = video.current;
      const frame = element && element.readyState >= 2 ? pixelsOf(element) : null;
      const text = frame ? await decodeQr(frame) : null;
      if (!live) return;
      if (text && !done.current) {
        done.current = true;
        found(text);
        return;
      }
      timer = setTimeout(() => void tick(), FRAME_INTERVAL_MS);
    };
    const start = async () => {
      if (!navigator.mediaDevices?.getUserMedia)
        throw new DOMException('no camera API', 'NotFoundError');
      stream = await navigator.mediaDevices.getUserMedia({
        video: { facingMode: 'environment' },
        audio: false,
      });
      if (!live || !video.current) return;
      video.current.srcObject = stream;
      await video.current.play();
      setStatus('Point the camera at the code on their screen.');
      void tick();
    };
    start().catch((error: unknown) => {
      if (live) setProblem(cameraProblem(error));
    });
    return () => {
      live = false;
      clearTimeout(timer);
      for (const track of stream?.getTracks() ?? []) track.stop();
    };
  }, []);

  const fromPhoto = async (event: ChangeEvent<HTMLInputElement>) => {
    const file = event.target.files?.[0];
    event.target.value = '';
    if (!file) return;
    const text = await decodeQrInFile(file).catch(() => null);
    if (text && !done.current) {
      done.current = true;
      onCode(text);
    } else if (!text)
      setProblem('No code was found in that picture. Take it again with the whole code in view.');
  };

  return (
    <div className={styles.scanner}>
      {problem ? <Banner tone="info">{problem}</Banner> : <p aria-live="polite">{status}</p>}
      <video
        ref={video}
        className={styles.video}
        muted
        playsInline
        aria-label="Camera view"
        hidden={problem !== null}
      />
      <div className={styles.row}>
        <label className={styles.photo}>
          Use a photo instead
          <input
            type="file"
            accept="image/*"
            capture="environment"
            onChange={(e) => void fromPhoto(e)}
          />
        </label>
        <Button variant="secondary" onClick={onStop}>
          Stop scanning
        </Button>
      </div>
    </div>
  );
}
