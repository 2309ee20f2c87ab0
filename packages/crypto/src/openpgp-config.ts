// openpgp.js settings every call in this package passes explicitly (never the mutable global
// `openpgp.config`, which another importer could change).
import { config as defaults, enums, type Config } from 'openpgp';

/**
 * Messages: SEIPDv1 + MDC, not AEAD (SEIPDv2 / OCB), because GnuPG 2.2 and sq 0.27 cannot read
 * SEIPDv2 (DESIGN §2). v4 keys only. No compression: it leaks plaintext structure through length
 * and invites decompression bombs.
 */
export const MESSAGE_CONFIG: Config = {
  // A full snapshot of the library defaults taken at load time, then our settings on top.
  ...defaults,
  aeadProtect: false,
  v6Keys: false,
  preferredSymmetricAlgorithm: enums.symmetric.aes256,
  preferredHashAlgorithm: enums.hash.sha256,
  preferredCompressionAlgorithm: enums.compression.uncompressed,
  // Never decrypt SED (no MDC) packets, never release unauthenticated streamed plaintext.
  allowUnauthenticatedMessages: false,
  allowUnauthenticatedStream: false,
  // A compressed packet from another tool may not expand beyond this (compression bombs).
  maxDecompressedMessageSize: 64 * 1024 * 1024,
  showVersion: false,
  showComment: false,
};

/** Config for reading untrusted input: no v5 entities, grammar enforced. */
export const READ_CONFIG: Config = {
  ...MESSAGE_CONFIG,
  enableParsingV5Entities: false,
  enforceGrammar: true,
};
