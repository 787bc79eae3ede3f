import { MultimodalError } from './multimodal-error';

const DATA_URL = /^data:(image\/[a-z0-9.+-]+)?(;[a-z0-9-]+=[^;,]*)*(;base64)?,/i;
const BASE64 = /^[A-Za-z0-9+/]*={0,2}$/;

/**
 * The bytes of a `data:` URL (the form OpenAI clients send inline images in). Sizes are checked
 * on the encoded length before anything is decoded.
 */
export function decodeDataUrl(url: string, maxBytes: number): { mime: string | undefined; bytes: Buffer } {
  const head = DATA_URL.exec(url.slice(0, 256));
  if (!head) throw new MultimodalError('bad_source', 'Image URL is not a data: URL with an image type.');
  if (!head[3]) throw new MultimodalError('bad_source', 'Inline images must be base64-encoded (data:image/...;base64,...).');
  const payload = url.slice(head[0].length).replace(/\s+/g, '');
  if (Math.floor((payload.length * 3) / 4) > maxBytes) {
    throw new MultimodalError('too_large', `Image exceeds the ${maxBytes}-byte limit.`);
  }
  if (payload.length === 0 || !BASE64.test(payload)) throw new MultimodalError('bad_source', 'Image data is not valid base64.');
  return { mime: head[1]?.toLowerCase(), bytes: Buffer.from(payload, 'base64') };
}
