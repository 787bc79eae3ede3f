import { MultimodalError } from '@drover/multimodal';
import { fetch, type Response } from 'undici';
import type { Egress } from '../egress/egress';

/** Redirects followed at most; each hop is checked against the egress policy like the first URL. */
const MAX_REDIRECTS = 3;

/**
 * Downloads an image URL under the image egress policy (no loopback, private, link-local or
 * metadata address unless allowed; the connection goes to the address that was checked), with a
 * deadline over all hops and a byte cap enforced while reading (a lying or absent content-length
 * cannot make the gateway buffer more than the cap). Errors say what happened without echoing
 * socket errors (which name internal addresses and ports).
 */
export async function fetchImage(url: string, opts: { maxBytes: number; timeoutMs: number; egress: Egress }): Promise<Buffer> {
  const signal = AbortSignal.timeout(opts.timeoutMs);
  const unreachable = () =>
    signal.aborted
      ? new MultimodalError('bad_source', `Image URL could not be fetched: no answer within ${opts.timeoutMs} ms.`)
      : new MultimodalError('bad_source', 'Image URL could not be fetched (unreachable, or an address this gateway does not fetch from).');
  let current: URL;
  try {
    current = new URL(url);
  } catch {
    throw new MultimodalError('bad_source', 'Image URL is not a valid URL.');
  }
  let res: Response;
  for (let hop = 0; ; hop++) {
    if (current.protocol !== 'http:' && current.protocol !== 'https:') throw new MultimodalError('bad_source', 'Image URL must be a data: URL or an http(s) URL.');
    try {
      opts.egress.checkUrl(current);
      // undici's own fetch with a dispatcher whose DNS lookup is the checked one.
      res = await fetch(current, { signal, redirect: 'manual', headers: { accept: 'image/*' }, dispatcher: opts.egress.dispatcher });
    } catch {
      throw unreachable();
    }
    const location = res.status >= 300 && res.status < 400 ? res.headers.get('location') : null;
    if (location === null) break;
    await res.body?.cancel().catch(() => undefined);
    if (hop >= MAX_REDIRECTS) throw new MultimodalError('bad_source', `Image URL redirects more than ${MAX_REDIRECTS} times.`);
    try {
      current = new URL(location, current);
    } catch {
      throw new MultimodalError('bad_source', 'Image URL redirects to an invalid URL.');
    }
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
    const { done, value } = await reader.read().catch(() => {
      throw new MultimodalError('bad_source', signal.aborted ? `Image download took longer than ${opts.timeoutMs} ms.` : 'Image download broke off.');
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
