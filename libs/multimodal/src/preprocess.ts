import { createHash } from 'node:crypto';
import sharp, { type Metadata, type OutputInfo } from 'sharp';
import { MultimodalError } from './multimodal-error';
import { patchifyBytes } from './patchify';
import type { PatchifyPool } from './patchify-pool';
import { smartResize } from './smart-resize';
import type { VisionConfig } from './vision-config';

export interface ProcessedImage {
  /** Flattened patches, [rows, cols] (see patchify). */
  patches: Float32Array;
  rows: number;
  cols: number;
  /** image_grid_thw: temporal, height and width in patches. */
  grid: [number, number, number];
  /** Placeholder tokens the image occupies in the prompt (one per merged patch). */
  tokens: number;
  /** sha256 of the encoded bytes: the image's identity for engine caches and routing. */
  hash: string;
  original: { width: number; height: number; format: string | undefined };
  resized: { width: number; height: number };
}

/**
 * Decodes, orients (EXIF), flattens transparency onto white, converts to sRGB, resizes (bicubic)
 * to the model's grid and normalises an image into patches. Every failure is a MultimodalError
 * with a client-facing message; pixel limits are enforced before the image is decoded. With a
 * pool, the patch layout is computed on a worker thread (the gateway's choice: its event loop
 * must not stall); without one, inline.
 */
export async function preprocessImage(bytes: Uint8Array, cfg: VisionConfig, pool?: PatchifyPool): Promise<ProcessedImage> {
  if (bytes.length > cfg.maxImageBytes) throw new MultimodalError('too_large', `Image exceeds the ${cfg.maxImageBytes}-byte limit.`);
  const input = () => sharp(bytes, { limitInputPixels: cfg.maxInputPixels, failOn: 'error', animated: false });
  let meta: Metadata;
  try {
    meta = await input().metadata();
  } catch (err) {
    throw undecodable(err);
  }
  if (!meta.width || !meta.height) throw new MultimodalError('undecodable', 'Image has no dimensions.');
  // EXIF orientations 5-8 are rotated by 90°: the upright image has width and height swapped.
  const turned = (meta.orientation ?? 1) >= 5;
  const upright = turned ? { width: meta.height, height: meta.width } : { width: meta.width, height: meta.height };
  const size = smartResize(upright.height, upright.width, cfg);
  let raw: { data: Buffer; info: OutputInfo };
  try {
    raw = await input()
      .rotate()
      .flatten({ background: '#ffffff' })
      .toColourspace('srgb')
      .resize(size.width, size.height, { fit: 'fill', kernel: 'cubic' })
      .removeAlpha()
      .raw()
      .toBuffer({ resolveWithObject: true });
  } catch (err) {
    throw undecodable(err);
  }
  const luts = normalisationTables(cfg);
  const { patches, rows, cols, gridH, gridW } = pool
    ? await pool.run(raw.data, raw.info.channels, size.height, size.width, luts, cfg)
    : patchifyBytes(raw.data, raw.info.channels, size.height, size.width, luts, cfg);
  return {
    patches,
    rows,
    cols,
    grid: [1, gridH, gridW],
    tokens: rows / (cfg.mergeSize * cfg.mergeSize),
    hash: createHash('sha256').update(bytes).digest('hex'),
    original: { ...upright, format: meta.format },
    resized: size,
  };
}

/** Per channel, the normalised value of each of the 256 byte values: (v/255 - mean) / std. */
export function normalisationTables(cfg: VisionConfig): [Float32Array, Float32Array, Float32Array] {
  const table = (c: number) => Float32Array.from({ length: 256 }, (_, v) => (v / 255 - cfg.imageMean[c]) / cfg.imageStd[c]);
  return [table(0), table(1), table(2)];
}

/** HWC bytes → normalised CHW floats (the reference two-step path; grey fills all three channels). */
export function normalise(data: Uint8Array, channels: number, size: { width: number; height: number }, cfg: VisionConfig): Float32Array {
  const plane = size.width * size.height;
  const out = new Float32Array(3 * plane);
  const luts = normalisationTables(cfg);
  for (let c = 0; c < 3; c++) {
    const lut = luts[c];
    let o = c * plane;
    for (let i = Math.min(c, channels - 1); i < data.length; i += channels) out[o++] = lut[data[i]];
  }
  return out;
}

function undecodable(err: unknown): MultimodalError {
  const msg = (err as Error).message ?? String(err);
  if (/pixel limit/i.test(msg)) return new MultimodalError('too_large', 'Image has more pixels than the gateway accepts.');
  return new MultimodalError('undecodable', `Image could not be decoded (${msg.split('\n')[0]}).`);
}
