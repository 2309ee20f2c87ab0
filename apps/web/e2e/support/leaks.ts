import { execFileSync } from 'node:child_process';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { CapturedRequest } from './browser';

/** Every place a secret could hide in a request: URL, headers and body. */
export function requestText(r: CapturedRequest): string {
  return [r.method, r.url, JSON.stringify(r.headers), r.body ? r.body.toString('latin1') : ''].join(
    '\n',
  );
}

/** Requests that contain any of `secrets` (exact substrings). */
export function leaksOf(
  captured: CapturedRequest[],
  secrets: string[],
): { url: string; secret: string }[] {
  const found: { url: string; secret: string }[] = [];
  for (const r of captured) {
    const text = requestText(r);
    for (const s of secrets) if (s && text.includes(s)) found.push({ url: r.url, secret: s });
  }
  return found;
}

/**
 * Armored private keys found in requests, with whether GnuPG sees every secret key packet
 * protected (S2K). An unprotected one means a private key left the browser in the clear.
 */
export function privateKeysIn(
  captured: CapturedRequest[],
): { url: string; protectedPackets: number; secretPackets: number }[] {
  const out: { url: string; protectedPackets: number; secretPackets: number }[] = [];
  const dir = mkdtempSync(join(tmpdir(), 'medseal-keys-'));
  for (const r of captured) {
    const text = requestText(r).replace(/\\n/g, '\n');
    const blocks =
      text.match(
        /-----BEGIN PGP PRIVATE KEY BLOCK-----[\s\S]*?-----END PGP PRIVATE KEY BLOCK-----/g,
      ) ?? [];
    for (const block of blocks) {
      const file = join(dir, `k${out.length}.asc`);
      writeFileSync(file, block);
      const listing = execFileSync('gpg', ['--homedir', dir, '--batch', '--list-packets', file], {
        encoding: 'utf8',
        stdio: ['ignore', 'pipe', 'ignore'],
      });
      const secretPackets = (listing.match(/:secret (sub )?key packet:/g) ?? []).length;
      const protectedPackets = (
        listing.match(/iter\+salt S2K|protect count|simple S2K|salted S2K/g) ?? []
      ).length;
      out.push({ url: r.url, protectedPackets, secretPackets });
    }
  }
  return out;
}
