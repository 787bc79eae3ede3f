import { MultimodalError } from './multimodal-error';
import type { ProcessedImage } from './preprocess';

export interface PromptImages {
  /** The prompt with each image's single placeholder token expanded to the image's token count. */
  inputIds: number[];
  /** Where each image's placeholder tokens sit in inputIds. */
  placeholders: { offset: number; length: number }[];
  /** All images' patches, concatenated: [sum of rows, cols], float32. */
  pixelValues: { data: Float32Array; shape: [number, number] };
  /** [images, 3]: each image's (t, h, w) grid. */
  gridThw: { data: Int32Array; shape: [number, 3] };
  hashes: string[];
}

/**
 * Expands the chat template's one `<|image_pad|>` per image into the image's real token count
 * and lays out the tensors the engine needs. The template is rendered with one pad per image so
 * the tokenizer caches see short, stable text; the engine needs one pad per merged patch.
 */
export function expandPromptImages(ids: readonly number[], padTokenId: number, images: readonly ProcessedImage[]): PromptImages {
  const pads = ids.reduce((n, id) => n + (id === padTokenId ? 1 : 0), 0);
  if (pads !== images.length) {
    throw new MultimodalError('bad_source', `The prompt holds ${pads} image placeholder tokens for ${images.length} images; message text must not contain image placeholder tokens.`);
  }
  const inputIds: number[] = [];
  const placeholders: PromptImages['placeholders'] = [];
  let next = 0;
  for (const id of ids) {
    if (id !== padTokenId) {
      inputIds.push(id);
      continue;
    }
    const img = images[next++];
    placeholders.push({ offset: inputIds.length, length: img.tokens });
    for (let i = 0; i < img.tokens; i++) inputIds.push(padTokenId);
  }
  const cols = images[0]?.cols ?? 0;
  const rows = images.reduce((n, im) => n + im.rows, 0);
  const data = new Float32Array(rows * cols);
  const grid = new Int32Array(images.length * 3);
  let row = 0;
  images.forEach((im, i) => {
    data.set(im.patches, row * cols);
    row += im.rows;
    grid.set(im.grid, i * 3);
  });
  return { inputIds, placeholders, pixelValues: { data, shape: [rows, cols] }, gridThw: { data: grid, shape: [images.length, 3] }, hashes: images.map((im) => im.hash) };
}

/** Pseudo token ids for routing live above any real vocabulary (ids < 2^24 in every tokenizer we know). */
export const PSEUDO_TOKEN_BASE = 0x4000_0000;
const PSEUDO_BASE = PSEUDO_TOKEN_BASE;
const PSEUDO_SPAN = 0x3fff_ffff;

/**
 * The token ids cache-aware routing should see: identical to the prompt except that each image's
 * placeholder run is replaced by ids derived from the image's hash. Every image of one size
 * expands to the same pads, so routing on the raw ids would send two different images to the
 * worker that cached the other one; with this, a repeated image matches and a new one diverges
 * exactly where it starts. Engines key their caches on image content the same way.
 */
export function routingTokens(prompt: Pick<PromptImages, 'inputIds' | 'placeholders' | 'hashes'>): number[] {
  const out = prompt.inputIds.slice();
  prompt.placeholders.forEach((ph, i) => {
    const hash = prompt.hashes[i];
    for (let k = 0; k < ph.length; k++) {
      // 8 hex digits of the hash per position, cycling, mixed with the position so runs differ.
      const word = parseInt(hash.slice((k * 8) % 56, ((k * 8) % 56) + 8), 16);
      out[ph.offset + k] = PSEUDO_BASE + ((word ^ Math.imul(k + 1, 0x9e3779b1)) >>> 0) % PSEUDO_SPAN;
    }
  });
  return out;
}

/**
 * Whether routing ids carry image content ids. An engine's KV events key image blocks on its own
 * hash of the pixels, which the gateway cannot reproduce, so such prompts are matched on the
 * gateway's own (approximate) tree rather than on the workers' exact block index.
 */
export function hasContentIds(ids: ArrayLike<number>): boolean {
  for (let i = 0; i < ids.length; i++) if (ids[i] >= PSEUDO_TOKEN_BASE) return true;
  return false;
}
