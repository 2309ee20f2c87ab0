// A minimal Node client for seeding the bench and E2E suites through the real API (same headers as the app).
import * as pgp from '@medseal/crypto';
import type { SessionStartResponse } from '@medseal/contract';
export interface Session {
  base: string;
  cookie: string;
}

export async function api<T>(
  s: { base: string; cookie?: string },
  method: string,
  path: string,
  body?: unknown,
): Promise<T> {
  const res = await fetch(`${s.base}/api${path}`, {
    method,
    headers: {
      'content-type': 'application/json',
      'x-medseal-csrf': '1',
      'x-medseal-client': '1.0.0',
      origin: s.base,
      ...(s.cookie ? { cookie: s.cookie } : {}),
    },
    ...(body === undefined ? {} : { body: JSON.stringify(body) }),
  });
  const text = await res.text();
  if (!res.ok) throw new Error(`${method} ${path}: HTTP ${res.status} ${text.slice(0, 200)}`);
  const setCookie = res.headers.get('set-cookie');
  const json = (text ? JSON.parse(text) : undefined) as T;
  if (setCookie && typeof json === 'object' && json !== null)
    Object.defineProperty(json, '__cookie', { value: setCookie.split(';')[0] });
  return json;
}

/** Uploads an encrypted file to a record, as the web app does; returns its attachment id. */
export async function uploadFile(
  s: { base: string; cookie?: string },
  recordId: string,
  message: Uint8Array,
): Promise<string> {
  const res = await fetch(`${s.base}/api/records/${recordId}/attachments`, {
    method: 'POST',
    headers: {
      'content-type': 'application/octet-stream',
      'x-medseal-csrf': '1',
      'x-medseal-client': '1.0.0',
      origin: s.base,
      ...(s.cookie ? { cookie: s.cookie } : {}),
    },
    body: new Blob([message as BlobPart]),
  });
  const text = await res.text();
  if (!res.ok) throw new Error(`upload: HTTP ${res.status} ${text.slice(0, 200)}`);
  return (JSON.parse(text) as { id: string }).id;
}

export function cookieOf(response: unknown): string {
  const c = (response as { __cookie?: string }).__cookie;
  if (!c) throw new Error('no session cookie in the response');
  return c;
}

/** Registers a user from Node (key generation and password stretching as the app does them). */
export async function registerUser(
  base: string,
  who: { name: string; email: string; role: 'patient' | 'doctor'; password: string },
) {
  const saltSeed = pgp.createSaltSeed();
  const kdf = { ...pgp.DEFAULT_KDF };
  const { loginSecret, keySecret } = await pgp.deriveSecrets({
    password: who.password,
    email: who.email,
    saltSeed,
    kdf,
  });
  const key = await pgp.generateUserKey({ name: who.name, email: who.email });
  const recovery = await pgp.createRecoveryKey();
  const res = await api<SessionStartResponse>({ base }, 'POST', '/auth/register', {
    email: who.email,
    name: who.name,
    role: who.role,
    publicKey: key.publicKey,
    loginSecret,
    saltSeed,
    kdf,
    encryptedPrivateKey: await pgp.lockPrivateKey({
      privateKey: key.privateKey,
      secret: keySecret,
    }),
    recoveryEncryptedPrivateKey: await pgp.lockPrivateKey({
      privateKey: key.privateKey,
      secret: recovery.secret,
    }),
  });
  const session = { base, cookie: cookieOf(res) };
  // The first account state, as the app writes it at registration (DESIGN §12).
  const { message } = await pgp.sealAccountState({
    state: {
      userId: res.user.id as pgp.UserId,
      version: 1,
      ownKey: await pgp.ownKeyOf(key.privateKey),
      pins: [],
      seen: {},
      consents: [],
      audit: {},
      transparencyHead: null,
    },
    key: key.privateKey,
  });
  const put = await fetch(`${base}/api/account-state?baseVersion=0`, {
    method: 'PUT',
    headers: {
      'content-type': 'application/octet-stream',
      'x-medseal-csrf': '1',
      'x-medseal-client': '1.0.0',
      origin: base,
      cookie: session.cookie,
    },
    body: new Uint8Array(message),
  });
  if (!put.ok)
    throw new Error(`PUT /account-state: HTTP ${put.status} ${(await put.text()).slice(0, 200)}`);
  return { id: res.user.id, key, session };
}
