// Comlink's default "throw" handler sends only message/name/stack, losing the stable `code`.
// These keep `code` and `details` (never the stack, never `cause`, which may hold library state)
// and rebuild a CryptoError on the UI side.
import { transferHandlers, type TransferHandler } from 'comlink';

interface SerializedThrow {
  isError: boolean;
  value: unknown;
}

type ThrowHandler = TransferHandler<{ value: unknown }, SerializedThrow>;

/** A CryptoError-shaped error rebuilt on the receiving side (`instanceof Error`, with `code`). */
export class RemoteCryptoError extends Error {
  readonly code: string;
  readonly details?: Record<string, unknown>;
  constructor(name: string, code: string, message: string, details?: Record<string, unknown>) {
    super(message);
    this.name = name;
    this.code = code;
    if (details) this.details = details;
  }
}

export function installErrorTransfer(): void {
  const original = transferHandlers.get('throw') as ThrowHandler | undefined;
  if (!original || (original as { medseal?: boolean }).medseal) return;
  const handler: ThrowHandler & { medseal: true } = {
    medseal: true,
    canHandle: original.canHandle,
    serialize({ value }) {
      if (value instanceof Error) {
        const e = value as Error & { code?: unknown; details?: unknown };
        const details = typeof e.details === 'object' && e.details !== null ? e.details : undefined;
        return [
          {
            isError: true,
            value: {
              name: e.name,
              message: e.message,
              code: typeof e.code === 'string' ? e.code : 'internal-error',
              ...(details ? { details } : {}),
            },
          },
          [],
        ];
      }
      return [{ isError: false, value }, []];
    },
    deserialize(serialized) {
      if (serialized.isError) {
        const v = serialized.value as {
          name?: string;
          message?: string;
          code?: string;
          details?: Record<string, unknown>;
        };
        throw new RemoteCryptoError(
          v.name ?? 'Error',
          v.code ?? 'internal-error',
          v.message ?? '',
          v.details,
        );
      }
      throw serialized.value;
    },
  };
  transferHandlers.set('throw', handler as unknown as TransferHandler<unknown, unknown>);
}
