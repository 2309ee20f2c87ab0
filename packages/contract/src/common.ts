import { z } from 'zod';

/** Bytes on the wire are base64url without padding (agreed cross-package convention). */
export const base64url = z.string().regex(/^[A-Za-z0-9_-]*$/, 'base64url without padding');

/** 32 random bytes, base64url: 43 characters. */
export const bytes32 = z.string().regex(/^[A-Za-z0-9_-]{43}$/, '32 bytes, base64url');

/** OpenPGP v4 fingerprint, 40 lowercase hex. The server always computes it itself. */
export const fingerprintSchema = z.string().regex(/^[0-9a-f]{40}$/, '40 lowercase hex');

/** Ids the server makes: 22 characters of base64url (128 random bits). */
export const idSchema = z.string().regex(/^[A-Za-z0-9_-]{22}$/, 'a 22-character id');

/** Error code of text with control, bidi or invisible format characters (issue 15, finding 12). */
export const UNSAFE_TEXT_CODE = 'unsafe-characters';

/**
 * Control characters (Cc), format characters (Cf: bidi overrides, embeddings, isolates and
 * marks, zero-width space, BOM, ...) and line/paragraph separators: they reorder or hide what
 * a person reads, so "Dr Ann" can display as someone else (CVE-2021-42574, "Trojan Source").
 * Zero-width (non-)joiners stay: they are part of how some scripts and emoji are written.
 */
const UNSAFE_TEXT = /(?![\u200C\u200D])[\p{Cc}\p{Cf}\u2028\u2029]/u;

/** True when `text` has a character `safeText` refuses. */
export function hasUnsafeCharacters(text: string): boolean {
  return UNSAFE_TEXT.test(text);
}

/**
 * The one validator for names and emails people read (issue 15, finding 12): refuses
 * `hasUnsafeCharacters`; the server answers 400 `unsafe-characters` (its issue carries the code).
 */
export function safeText<S extends z.ZodString>(schema: S): S {
  return schema.refine((text) => !hasUnsafeCharacters(text), {
    message: 'no control, bidi or invisible characters',
    params: { code: UNSAFE_TEXT_CODE },
  });
}

export const emailSchema = safeText(
  z
    .string()
    .trim()
    .toLowerCase()
    .max(254)
    .regex(/^[^\s@]+@[^\s@]+\.[^\s@]+$/, 'an email address'),
);

export const roleSchema = z.enum(['patient', 'doctor']);
export type Role = z.infer<typeof roleSchema>;

export const isoDate = z.string().datetime({ offset: true });

/**
 * OpenPGP data as text (armored). Only the length is checked here: the server checks the
 * content with @medseal/crypto, which answers with precise codes (`not-armored`, ...).
 */
export const armoredSchema = (maxChars: number) => z.string().min(1).max(maxChars);

/** A password- or recovery-locked private key: opaque to the server, so only its armor header is checked. */
export const lockedKeySchema = z
  .string()
  .max(16 * 1024)
  .regex(/^-----BEGIN PGP PRIVATE KEY BLOCK-----/, 'an armored OpenPGP private key');

/** Longest armored public key / locked private key accepted (a v4 Ed25519 key is ~1 KiB). */
export const MAX_KEY_CHARS = 16 * 1024;
/** Longest armored record message accepted inside the JSON body. */
export const MAX_RECORD_MESSAGE_CHARS = 768 * 1024;
/** Largest file a person may attach (its plaintext, as the app says: 20 MiB). */
export const MAX_FILE_SIZE_BYTES = 20 * 1024 * 1024;
/**
 * Largest binary attachment (the sealed OpenPGP message) accepted: a file of
 * MAX_FILE_SIZE_BYTES grows by its Padmé padding (at most 512 KiB at 20 MiB) and the
 * OpenPGP framing (packets, signature, a few KiB).
 */
export const MAX_ATTACHMENT_BYTES = MAX_FILE_SIZE_BYTES + 1024 * 1024;

/**
 * The shape of Argon2id parameters. The floor (and ceiling) is not here but in one place,
 * `@medseal/crypto` `checkKdf` / `MIN_KDF`, which the client applies to what the server hands
 * out and the server applies to what a client registers (400 `kdf-too-weak`).
 */
export const kdfSchema = z
  .object({
    algorithm: z.literal('argon2id'),
    memoryKiB: z
      .number()
      .int()
      .min(1)
      .max(4 * 1024 * 1024),
    iterations: z.number().int().min(1).max(64),
    parallelism: z.number().int().min(1).max(16),
  })
  .strict();
export type KdfParams = z.infer<typeof kdfSchema>;

/**
 * Cursor pagination: `before` is an opaque cursor from the previous page. Up to 250 per
 * page: on the embedded FerretDB every page is a scan of the whole collection, so a client
 * that wants everything (the web app's list) asks for few, large pages.
 */
export const pageQuerySchema = z
  .object({
    limit: z.coerce.number().int().min(1).max(250).default(50),
    before: z.string().max(200).optional(),
  })
  .strict();

export const userSummarySchema = z.object({
  id: idSchema,
  name: z.string(),
  role: roleSchema,
});
export type UserSummary = z.infer<typeof userSummarySchema>;
