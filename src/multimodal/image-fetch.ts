import { MultimodalError } from '@drover/multimodal';

/**
 * Downloads an image URL with a deadline and a byte cap that is enforced while reading (a lying
 * or absent content-length cannot make the gateway buffer more than the cap).
 */
export async function fetchImage(url: string, opts: { maxBytes: number; timeoutMs: number }): Promise<Buffer> {
  let res: Response;
  try {
    res = await fetch(url, { signal: AbortSignal.timeout(opts.timeoutMs), redirect: 'follow', headers: { accept: 'image/*' } });
  } catch (err) {
    const e = err as Error;
    const why = e.name === 'TimeoutError' ? `no answer within ${opts.timeoutMs} ms` : (e.cause as Error | undefined)?.message ?? e.message;
    throw new MultimodalError('bad_source', `Image URL could not be fetched: ${why}.`);
  }
  if (!res.ok) {
    await res.body?.cancel().catch(() => undefined);
    throw new MultimodalError('bad_source', `Image URL answered HTTP ${res.status}.`);
  }
  const declared = Number(res.headers.get('content-length') ?? 0);
  if (declared > opts.maxBytes) {
    await res.body?.cancel().catch(() => undefined);
    throw new MultimodalError('too_large', `Image exceeds the ${opts.maxBytes}-byte limit.`);
  }
  const chunks: Uint8Array[] = [];
  let total = 0;
  const reader = res.body!.getReader();
  for (;;) {
    const { done, value } = await reader.read().catch((err: Error) => {
      throw new MultimodalError('bad_source', `Image download failed: ${err.message}.`);
    });
    if (done) break;
    total += value.length;
    if (total > opts.maxBytes) {
      await reader.cancel().catch(() => undefined);
      throw new MultimodalError('too_large', `Image exceeds the ${opts.maxBytes}-byte limit.`);
    }
    chunks.push(value);
  }
  return Buffer.concat(chunks);
}
