// Web-stream helpers for progress reporting (attachments).

const CHUNK = 1024 * 1024;

/** A web stream over `data` in 1 MiB chunks that reports how many bytes the consumer has pulled. */
export function progressStream(
  data: Uint8Array,
  onProgress: (done: number) => void,
): ReadableStream<Uint8Array> {
  let offset = 0;
  return new ReadableStream<Uint8Array>({
    pull(controller) {
      if (offset >= data.length) {
        controller.close();
        return;
      }
      const end = Math.min(offset + CHUNK, data.length);
      controller.enqueue(data.subarray(offset, end));
      offset = end;
      onProgress(offset);
    },
  });
}

/** Reads a stream to the end into one array; a stream error (e.g. failed verification) rejects. */
export async function collect(
  stream: ReadableStream<Uint8Array> | Uint8Array,
): Promise<Uint8Array> {
  if (stream instanceof Uint8Array) return stream;
  const reader = stream.getReader();
  const parts: Uint8Array[] = [];
  let length = 0;
  for (;;) {
    const { done, value } = await reader.read();
    if (done) break;
    parts.push(value);
    length += value.length;
  }
  const out = new Uint8Array(length);
  let pos = 0;
  for (const p of parts) {
    out.set(p, pos);
    pos += p.length;
  }
  return out;
}
