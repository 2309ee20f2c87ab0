/** Buffers read with `lean()` come back as BSON Binary; this gives a Node Buffer either way. */
export function toBuffer(value: unknown): Buffer {
  if (Buffer.isBuffer(value)) return value;
  if (value instanceof Uint8Array)
    return Buffer.from(value.buffer, value.byteOffset, value.byteLength);
  const inner = (value as { buffer?: unknown } | null)?.buffer;
  if (inner instanceof Uint8Array)
    return Buffer.from(inner.buffer, inner.byteOffset, inner.byteLength);
  throw new TypeError('not binary data');
}
