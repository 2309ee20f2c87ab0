import { useEffect, useState } from 'react';
import styles from './sharing.module.css';

/** 40 hex digits → 10 groups of 4, as DESIGN §7 and the issue ask. */
export function fingerprintGroups(fingerprint: string): string[] {
  if (!/^[0-9a-f]{40}$/i.test(fingerprint))
    throw new Error(`not a v4 fingerprint: ${fingerprint.length} characters`);
  return fingerprint.toUpperCase().match(/.{4}/g) ?? [];
}

export function FingerprintView({
  fingerprint,
  label = 'Key fingerprint',
}: {
  fingerprint: string;
  label?: string;
}) {
  const groups = fingerprintGroups(fingerprint);
  return (
    <div
      role="group"
      aria-label={label}
      className={styles.fingerprint}
      data-fingerprint={fingerprint}
    >
      {groups.map((g, i) => (
        <span key={i}>{g}</span>
      ))}
    </div>
  );
}

/** The 60-digit safety number in groups of 5 (like Signal). */
export function SafetyNumberView({ digits }: { digits: string }) {
  const groups = digits.replace(/\s+/g, '').match(/.{1,5}/g) ?? [];
  return (
    <div
      role="group"
      aria-label="Safety number"
      className={styles.safety}
      data-safety-number={digits.replace(/\s+/g, '')}
    >
      {groups.map((g, i) => (
        <span key={i}>{g}</span>
      ))}
    </div>
  );
}

/** A QR code of `payload`, drawn locally (the qrcode library is loaded only when needed). */
export function QrCode({ payload, label }: { payload: string; label: string }) {
  const [url, setUrl] = useState<string | null>(null);
  useEffect(() => {
    let live = true;
    void import('qrcode').then(async (qr) => {
      const data = await qr.toDataURL(payload, {
        margin: 1,
        width: 180,
        errorCorrectionLevel: 'M',
      });
      if (live) setUrl(data);
    });
    return () => {
      live = false;
    };
  }, [payload]);
  return url ? (
    <img className={styles.qr} src={url} alt={label} />
  ) : (
    <div className={styles.qr} aria-busy="true" aria-label={label} />
  );
}
