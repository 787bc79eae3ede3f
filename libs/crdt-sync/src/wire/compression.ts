import { deflate, Inflate } from 'pako';

/** Payloads below this many bytes are sent as they are: deflate's header would not pay off. */
export const COMPRESS_ABOVE_BYTES = 200;

export function compress(bytes: Uint8Array): Uint8Array {
  return deflate(bytes);
}

class OutputTooLarge extends Error {}

/**
 * Inflates at most `maxOutputBytes`; returns undefined on corrupt input or when the output would
 * exceed the cap (a zip bomb is stopped after one chunk past the cap, never fully allocated).
 */
export function decompressCapped(bytes: Uint8Array, maxOutputBytes: number): Uint8Array | undefined {
  const inflater = new Inflate({ chunkSize: 64 * 1024 });
  const chunks: Uint8Array[] = [];
  let total = 0;
  inflater.onData = (chunk: Uint8Array) => {
    total += chunk.length;
    if (total > maxOutputBytes) throw new OutputTooLarge();
    chunks.push(chunk);
  };
  let ok: boolean;
  try {
    ok = inflater.push(bytes, true);
  } catch {
    return undefined;
  }
  if (!ok || inflater.err !== 0 || !inflater.ended) return undefined;
  if (chunks.length === 1) return chunks[0];
  const out = new Uint8Array(total);
  let pos = 0;
  for (const c of chunks) {
    out.set(c, pos);
    pos += c.length;
  }
  return out;
}
